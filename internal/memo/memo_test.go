package memo

import (
	"strconv"
	"testing"
)

// A memo holds at most Limit strings however many it is asked, and returns
// f's value for each.
func TestMemoIsBounded(t *testing.T) {
	m := New(func(s string) int { return len(s) })
	for i := range 4 * Limit {
		s := strconv.Itoa(i)
		if got := m.Get(s); got != len(s) {
			t.Fatalf("Get(%q) = %d, want %d", s, got, len(s))
		}
		if n := len(m.m); n > Limit {
			t.Fatalf("%d strings held after %d asked, want at most %d", n, i+1, Limit)
		}
	}
}
