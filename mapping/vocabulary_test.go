package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
)

// wordsHash is the SHA-256 of the vocabulary's words, whatever their
// order in the file and without the notes.
func wordsHash(t *testing.T) string {
	t.Helper()
	v := vocab
	v.Version, v.About = 0, nil
	b, err := json.Marshal(v) // maps marshal in key order
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keysHash is the SHA-256 of the keys of the labelled data's names and
// descriptions, and of a few numbers: what the code makes of the words.
func keysHash(t *testing.T) string {
	t.Helper()
	h := sha256.New()
	key := func(s string) { fmt.Fprintf(h, "%s\t%s\n", s, DescriptionKey(s)) }
	for _, it := range loadCatalogue(t) {
		key(it.Name)
	}
	for _, l := range loadLines(t) {
		key(l.Description)
	}
	for _, s := range []string{"Milk 1.5%", "Cups 1,000 ct", "Oil 1,5 L", "Flour 1.000,5 kg", "Lot 1.2.3"} {
		key(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Stored keys are re-keyed when the version changes, and only then: the
// words of each version, and the keys its code makes, are fixed. Changing
// a word, or how keys are made, without a new version (and a line here)
// fails this test.
func TestVocabularyVersionNamesItsWords(t *testing.T) {
	hashes := map[int][2]string{ // words, keys
		2: {"acd1a650b0bf9d1d0e442ca5de9ed49e2d72cc25ef2e7707853af53287a323b9", "8093ffde6097f9897fffe1d550f83e76512afef70b3cf58f1fb9015702e417ae"},
		// Qualifiers of cooking, tails, heads, cut and size; numbers keep
		// their decimal mark, more sizes are read.
		3: {"cfaddcff16f2a5a49b9e5787e8a0845d8f8d960538c72751f7b500244543cc2b", "e94e5064f612994cc6f41b3ea1f9534a1d16c5135b4d925f1e8a84963e5729e0"},
	}
	if got := wordsHash(t); hashes[Version()][0] != got {
		t.Errorf("vocabulary.json's words hash to %s, but version %d has %s: a change of words needs a new version", got, Version(), hashes[Version()][0])
	}
	if got := keysHash(t); hashes[Version()][1] != got {
		t.Errorf("the labelled data's keys hash to %s, but version %d has %s: a change of keys needs a new version", got, Version(), hashes[Version()][1])
	}
}
