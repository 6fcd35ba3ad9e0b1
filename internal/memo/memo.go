// Package memo remembers the results of a function of a string, within a
// bound: invoices repeat the same few thousand strings, and what is computed
// from them (a normalization, a pack size) costs more than a look-up.
package memo

import "strings"

// Limit bounds a cache. Invoices repeat a few thousand strings far more
// often than the rest, and those stay. A file whose every line differs (a
// lot number in each description) keeps the importer's caches to some
// 12 MB together: 400,000 such lines peaked at 102 MiB, against 192 MiB
// when the bound was 131,072 and a full cache was forgotten at once. Half
// this bound, the 1M-line benchmark's dry run took 20% more CPU.
const Limit = 1 << 15

// Cache maps strings to values, at most Limit of them, so that its memory
// is bounded whatever the input's size. When its newer half is full, the
// older half is forgotten: what is in use comes back into the newer half
// when it is looked up, and stays. It is not safe for concurrent use.
type Cache[V any] struct {
	cur, old map[string]V
}

// Get returns the value under key k, given as bytes so that a look-up
// allocates nothing.
func (c *Cache[V]) Get(k []byte) (V, bool) {
	if v, ok := c.cur[string(k)]; ok {
		return v, true
	}
	v, ok := c.old[string(k)]
	if ok {
		c.Put(string(k), v)
	}
	return v, ok
}

// Len is how many keys the cache holds.
func (c *Cache[V]) Len() int {
	n := len(c.cur)
	for k := range c.old {
		if _, ok := c.cur[k]; !ok {
			n++
		}
	}
	return n
}

// Put sets the value under key k, which the cache keeps: it should hold no
// larger string alive.
func (c *Cache[V]) Put(k string, v V) {
	if c.cur == nil || len(c.cur) >= Limit/2 {
		c.old, c.cur = c.cur, make(map[string]V)
	}
	c.cur[k] = v
}

// Memo caches f. It is not safe for concurrent use.
type Memo[V any] struct {
	f func(string) V
	c Cache[V]
}

// New returns a memo of f.
func New[V any](f func(string) V) Memo[V] {
	return Memo[V]{f: f}
}

// Get returns f(s).
func (m *Memo[V]) Get(s string) V {
	if v, ok := m.c.cur[s]; ok {
		return v
	}
	v, ok := m.c.old[s]
	if !ok {
		v = m.f(s)
	}
	// s is often a field of a record, which holds the whole line alive.
	m.c.Put(strings.Clone(s), v)
	return v
}
