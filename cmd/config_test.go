package cmd

import "testing"

func TestMatchesRejectsOf(t *testing.T) {
	for _, c := range []struct {
		pat, base string
		want      bool
	}{
		{"acme-*.json", "acme-1.rejects.ndjson", true},
		{"sysco*.xlsx", "sysco-november.rejects.csv", true},
		{"*.csv.gz", "may.rejects.csv", true},
		{"acme-*.json", "other-1.rejects.ndjson", false},
		{"acme-*.json", "acme-1.ndjson", false},
	} {
		if got := matchesRejectsOf(c.pat, c.base); got != c.want {
			t.Errorf("matchesRejectsOf(%q, %q) = %v, want %v", c.pat, c.base, got, c.want)
		}
	}
}
