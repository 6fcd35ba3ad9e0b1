package mapping

import (
	"math"
	"slices"
	"testing"
)

// The expected values were computed by PostgreSQL 15's pg_trgm (similarity(),
// in a UTF8 database with locale C.UTF-8); pg_trgm returns a float4, hence
// the tolerance.
func TestSimilarityMatchesPgTrgm(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"word", "words", 0.5714286}, // 4 common of 7: "  w"," wo","wor","ord" | "rd ","rds","ds "
		{"abc", "abd", 0.33333334},   // "  a"," ab" common; "abc","bc ","abd","bd " not
		{"", "", 0},                  // empty sets are not similar
		{"a", "", 0},
		{"   ", "   ", 0},
		{"a", "a", 1},
		{"x", "xy", 0.25},
		{"ab", "abab", 0.6},
		{"aaa", "aaaa", 1}, // sets, not multisets
		{"hello world", "world hello", 1},
		{"a b c", "c b a", 1},
		{"Whole Milk", "whole milk", 1},
		{"ab-cd", "ab cd", 1},
		{"o'brien", "obrien", 0.5},
		{"12x500ml", "12 x 500 ml", 0.23529412},
		{"chicken breast", "chicken thigh", 0.3809524},
		{"milk skim", "milk whole", 0.3125},
		{"2pct milk", "1pct milk", 0.53846157},
		{"chiken brest", "chicken breast", 0.47368422},
		{"boneless breast chicken skinless", "boneless chicken skinless thigh", 0.6571429},
		{"jalapeño", "jalapeno", 0.5},
		{"ÜBER", "über", 1},
		{"café au lait", "cafe au lait", 0.73333335},
	}
	for _, tt := range tests {
		got := Similarity(tt.a, tt.b)
		if math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("Similarity(%q, %q) = %.7f, want %.7f", tt.a, tt.b, got, tt.want)
		}
		if rev := Similarity(tt.b, tt.a); rev != got {
			t.Errorf("Similarity is not symmetric on %q, %q: %v vs %v", tt.a, tt.b, got, rev)
		}
	}
}

func TestTrigrams(t *testing.T) {
	show := func(s string) []string {
		var out []string
		for _, g := range trigrams(s) {
			out = append(out, string([]rune{rune(g >> 42), rune(g >> 21 & 0x1fffff), rune(g & 0x1fffff)}))
		}
		slices.Sort(out)
		return out
	}
	// pg_trgm: show_trgm('Hello, World a')
	want := []string{"  a", "  h", "  w", " a ", " he", " wo", "ell", "hel", "ld ", "llo", "lo ", "orl", "rld", "wor"}
	if got := show("Hello, World a"); !slices.Equal(got, want) {
		t.Errorf("trigrams(%q) = %q, want %q", "Hello, World a", got, want)
	}
}
