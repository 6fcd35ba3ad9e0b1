// Package memo remembers the results of a function of a string, within a
// bound: invoices repeat the same few thousand strings, and what is computed
// from them (a normalization, a pack size) costs more than a look-up.
package memo

// Limit bounds a memo; a catalogue's worth of distinct strings fits.
const Limit = 1 << 17

// Memo caches f. It forgets everything when full, so that its memory is
// bounded whatever the input's size. It is not safe for concurrent use.
type Memo[V any] struct {
	f func(string) V
	m map[string]V
}

// New returns a memo of f.
func New[V any](f func(string) V) Memo[V] {
	return Memo[V]{f: f}
}

// Get returns f(s).
func (c *Memo[V]) Get(s string) V {
	if v, ok := c.m[s]; ok {
		return v
	}
	if c.m == nil || len(c.m) >= Limit {
		c.m = make(map[string]V)
	}
	v := c.f(s)
	c.m[s] = v
	return v
}
