package memo

import (
	"strconv"
	"testing"
)

// A memo holds at most Limit strings however many it is asked, and a
// string asked for all along is computed once.
func TestMemoIsBoundedAndKeepsWhatIsInUse(t *testing.T) {
	calls := map[string]int{}
	m := New(func(s string) int { calls[s]++; return len(s) })
	for i := range 4 * Limit {
		if got := m.Get("hot"); got != 3 {
			t.Fatalf("Get(hot) = %d, want 3", got)
		}
		s := strconv.Itoa(i)
		if got := m.Get(s); got != len(s) {
			t.Fatalf("Get(%q) = %d, want %d", s, got, len(s))
		}
		if i%128 == 0 && m.c.Len() > Limit {
			t.Fatalf("%d strings held after %d asked, want at most %d", m.c.Len(), i+2, Limit)
		}
	}
	if calls["hot"] != 1 {
		t.Errorf("hot computed %d times, want once", calls["hot"])
	}
	if calls["0"] != 1 || m.Get("0") != 1 || calls["0"] != 2 {
		t.Errorf("a string not asked for since %d others were is computed again: %d calls", 4*Limit, calls["0"])
	}
}

// A cache's look-up by bytes finds what was put under the same string,
// in either half.
func TestCacheFindsBothHalves(t *testing.T) {
	var c Cache[int]
	c.Put("first", 1)
	for i := range Limit / 2 {
		c.Put(strconv.Itoa(i), i)
	}
	if v, ok := c.Get([]byte("first")); !ok || v != 1 {
		t.Fatalf("first, from the older half: %d, %v", v, ok)
	}
	if _, ok := c.cur["first"]; !ok {
		t.Error("first not brought back into the newer half")
	}
	if _, ok := c.Get([]byte("never")); ok {
		t.Error("found a key never put")
	}
}
