package importer

import (
	"github.com/batchimport/batchimport/store"
)

// invoiceKey is an invoice as the invoices table keys it.
type invoiceKey struct{ account, vendor, number string }

// pendingKey is what a group writes that a row of a later group may
// need: an invoice it claims, an item it creates (the item's id slot) or
// a reject it takes back. One of the three is set; a struct, not an
// interface, so that a row's keys cost no allocation.
type pendingKey struct {
	invoice invoiceKey
	item    *int64
	origin  store.Origin
}

// split cuts the batch in two: what the group writes at once, and the
// rows it holds back to its end, which need an invoice, an item or a
// reject that an earlier group in flight writes, or a row held back. The
// proposals go at the end too: their items may be an earlier group's.
// Both parts say no progress: their outcomes are what the database changed
// of the batch's.
func (s *parallelSink) split(f *flight, b *store.Batch) (now, later *store.Batch) {
	var held []int
	var keys []pendingKey
	var last invoiceKey // the invoice of the row before, as registered
	var lastVendor string
	lastHeld := false // f holds a row of it back
	for i := range b.Rows {
		r := &b.Rows[i]
		keys = keys[:0]
		// Most rows are of the invoice of the row before: f has registered
		// it, and waits for it only where it holds a row of it back.
		same := i > 0 && r.InvoiceNumber == last.number && r.Vendor == lastVendor && r.Account == last.account
		if !same {
			last, lastVendor = invoiceKey{r.Account, s.lowerVendor(r.Vendor), r.InvoiceNumber}, r.Vendor
			keys = append(keys, pendingKey{invoice: last})
		}
		if r.Origin.Run > 0 {
			keys = append(keys, pendingKey{origin: r.Origin})
		}
		needs := same && lastHeld || s.waits(f, keys...)
		if r.ItemID != nil && s.itemsPending(f) && s.waits(f, pendingKey{item: r.ItemID}) {
			needs = true
		}
		for _, m := range r.NewMappings {
			needs = needs || s.itemsPending(f) && s.waits(f, pendingKey{item: m.ItemID})
		}
		for _, it := range r.NewItems {
			keys = append(keys, pendingKey{item: it.ID})
		}
		if same && needs && !lastHeld {
			keys = append(keys, pendingKey{invoice: last})
		}
		s.register(f, keys, needs)
		lastHeld = needs
		if needs {
			held = append(held, i)
		}
	}
	var heldRejects []store.Reject
	rejects := b.Rejects[:0:0]
	for _, rj := range b.Rejects {
		if rj.Origin.Run > 0 {
			k := pendingKey{origin: rj.Origin}
			needs := s.waits(f, k)
			s.register(f, []pendingKey{k}, needs)
			if needs {
				heldRejects = append(heldRejects, rj)
				continue
			}
		}
		rejects = append(rejects, rj)
	}
	n := *b
	n.Progress, n.Proposals, now = store.Progress{}, nil, &n
	if len(held) == 0 && len(heldRejects) == 0 && len(b.Proposals) == 0 {
		return now, nil
	}
	n.Rejects = rejects
	l := &store.Batch{RunID: b.RunID, Account: b.Account, Owner: b.Owner, From: b.From, Rejects: heldRejects,
		Proposals: b.Proposals, Force: b.Force, Seen: b.Seen}
	if len(held) == 0 {
		return now, l
	}
	// The rows held back are copied, with their records as read: the
	// batch's arrays carry another batch once the first part is written.
	l.Rows = make([]store.Row, len(held))
	raws := make([][]byte, len(held))
	for j, i := range held {
		l.Rows[j], raws[j] = b.Rows[i], b.Raw(i)
	}
	l.Raw = func(j int) []byte { return raws[j] }
	nowIx := make([]int, 0, len(b.Rows)-len(held))
	h := 0
	for i := range b.Rows {
		if h < len(held) && held[h] == i {
			h++
			continue
		}
		nowIx = append(nowIx, i)
	}
	n.Ends, l.Ends = chunkEnds(b.Ends, nowIx), chunkEnds(b.Ends, held)
	raw := b.Raw
	if k := len(held); held[k-1] == k-1 {
		// The usual case: an invoice begun in the group before.
		n.Rows = b.Rows[k:]
		n.Raw = func(i int) []byte { return raw(k + i) }
		return now, l
	}
	n.Rows = make([]store.Row, len(nowIx))
	for j, i := range nowIx {
		n.Rows[j] = b.Rows[i]
	}
	n.Raw = func(i int) []byte { return raw(nowIx[i]) }
	return now, l
}

// chunkEnds is where the chunks of a part of a batch end, the part being
// the rows ix (ascending) of a batch whose chunks end at ends.
func chunkEnds(ends []int, ix []int) []int {
	var out []int
	c := 0
	for j, i := range ix {
		for c < len(ends) && i >= ends[c] {
			c++
		}
		if j+1 == len(ix) || c < len(ends) && ix[j+1] >= ends[c] {
			out = append(out, j+1)
		}
	}
	return out
}

// waits says whether any of the keys is written by an earlier group in
// flight, or by a row f holds back.
func (s *parallelSink) waits(f *flight, keys ...pendingKey) bool {
	for _, k := range keys {
		if g, ok := s.pending[k]; ok && g != f || f.held[k] {
			return true
		}
	}
	return false
}

// itemsPending says whether any item is written by a group in flight or
// by a row f holds back: most rows need no look-up of their item.
func (s *parallelSink) itemsPending(f *flight) bool {
	return s.items > 0 || f.heldItems
}

// register notes that f writes what the keys name, at its end if held.
func (s *parallelSink) register(f *flight, keys []pendingKey, held bool) {
	for _, k := range keys {
		if g, ok := s.pending[k]; g != f {
			if !ok && k.item != nil {
				s.items++
			}
			s.pending[k] = f
			f.keys = append(f.keys, k)
		}
		if held {
			f.held[k] = true
			f.heldItems = f.heldItems || k.item != nil
		}
	}
}

// lowerVendor is the vendor as invoices key it (store.InvoiceVendor).
func (s *parallelSink) lowerVendor(v string) string {
	l, ok := s.lower[v]
	if !ok {
		if len(s.lower) > 1000 {
			clear(s.lower)
		}
		l = store.InvoiceVendor(v)
		s.lower[v] = l
	}
	return l
}

// forget removes what a harvested group registered, and lets it go.
func (s *parallelSink) forget(f *flight) {
	for _, k := range f.keys {
		if s.pending[k] == f {
			delete(s.pending, k)
			if k.item != nil {
				s.items--
			}
		}
	}
	f.keys, f.held, f.prev = nil, nil, nil
}
