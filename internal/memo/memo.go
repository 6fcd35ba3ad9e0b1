// Package memo remembers the results of a function of a string, within a
// bound: invoices repeat the same few thousand strings, and what is computed
// from them (a normalization, a pack size) costs more than a look-up.
package memo

import "strings"

// Limit bounds a memo. Invoices repeat a few thousand strings far more
// often than the rest; a file whose every line differs (a lot number in
// each description) must not grow the importer with it. With a bound of
// 131,072, and keys holding their whole record alive, 400,000 such lines
// peaked at 192 MiB, against 102 MiB now. The 1M-line benchmark file has
// about 29,000 distinct lines: with half this bound, its dry run took 20%
// more CPU.
const Limit = 1 << 15

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
	// s is often a field of a record, which would stay alive with it.
	c.m[strings.Clone(s)] = v
	return v
}
