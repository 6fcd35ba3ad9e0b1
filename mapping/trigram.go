package mapping

import (
	"slices"
	"unicode"
)

// trigram is three characters packed into one integer (21 bits each, enough
// for any Unicode code point), so that trigram sets are sorted integer slices
// and postings can live in a map without allocating strings.
//
// PostgreSQL's pg_trgm stores a trigram of multibyte characters as a 3-byte
// CRC of its bytes, so two different trigrams can collide there; here they
// never do. The difference only shows on non-ASCII text, and only when a
// collision happens to fall inside the two strings being compared.
type trigram uint64

func packTrigram(a, b, c rune) trigram {
	return trigram(a)<<42 | trigram(b)<<21 | trigram(c)
}

// trigrams returns the trigram set of s as pg_trgm computes it: s is split
// into words, the maximal runs of letters and digits (every other character
// separates words); each word is lower-cased and padded with two spaces in
// front and one behind; the trigrams are all 3-character windows of the padded
// words. The result is sorted and free of duplicates.
func trigrams(s string) []trigram {
	return appendTrigrams(make([]trigram, 0, maxTrigrams(s)), s)
}

// maxTrigrams bounds the trigrams of s: each letter or digit makes one,
// and so does each word's end, which a separator or the end of s follows.
func maxTrigrams(s string) int { return len(s) + 1 }

// appendTrigrams appends the trigram set of s (trigrams) to out, which
// it sorts from where s's begin.
func appendTrigrams(out []trigram, s string) []trigram {
	from := len(out)
	// a and b are the two characters before the current one, starting with
	// the two padding spaces of a new word.
	a, b := ' ', ' '
	inWord := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			r = unicode.ToLower(r)
			if !inWord {
				a, b, inWord = ' ', ' ', true
			}
			out = append(out, packTrigram(a, b, r))
			a, b = b, r
			continue
		}
		if inWord {
			out = append(out, packTrigram(a, b, ' '))
			inWord = false
		}
	}
	if inWord {
		out = append(out, packTrigram(a, b, ' '))
	}
	slices.Sort(out[from:])
	return append(out[:from], slices.Compact(out[from:])...)
}

// overlap counts the elements two sorted sets have in common.
func overlap[T trigram | uint32](x, y []T) int {
	n := 0
	for i, j := 0, 0; i < len(x) && j < len(y); {
		switch {
		case x[i] < y[j]:
			i++
		case x[i] > y[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// jaccard is pg_trgm's similarity of two trigram sets of sizes nx and ny that
// have common trigrams in common: |x ∩ y| / |x ∪ y|, and 0 when either set is
// empty (pg_trgm's convention, so that two empty strings are not similar).
func jaccard(common, nx, ny int) float64 {
	if nx == 0 || ny == 0 {
		return 0
	}
	return float64(common) / float64(nx+ny-common)
}

// Similarity returns the trigram similarity of a and b exactly as PostgreSQL's
// pg_trgm similarity() defines it (see trigrams), apart from pg_trgm's hashing
// of non-ASCII trigrams. It is meant for normalized strings but, like pg_trgm,
// lower-cases its input itself.
func Similarity(a, b string) float64 {
	x, y := trigrams(a), trigrams(b)
	return jaccard(overlap(x, y), len(x), len(y))
}
