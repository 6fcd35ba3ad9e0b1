package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Stored keys are re-keyed when the version changes, and only then: the
// words of each version are fixed. Changing a word without a new version
// (and a line here) fails this test.
func TestVocabularyVersionNamesItsWords(t *testing.T) {
	hashes := map[int]string{
		2: "acd1a650b0bf9d1d0e442ca5de9ed49e2d72cc25ef2e7707853af53287a323b9",
	}
	if got := wordsHash(t); hashes[Version()] != got {
		t.Errorf("vocabulary.json's words hash to %s, but version %d has %s: a change of words needs a new version", got, Version(), hashes[Version()])
	}
}
