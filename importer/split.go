package importer

import (
	"strings"

	"github.com/batchimport/batchimport/store"
)

// invoiceKey is an invoice as the invoices table keys it.
type invoiceKey struct{ account, vendor, number string }

// split cuts the batch in two: what the group writes at once, and the rows
// it holds back to its end, which need an item or an invoice of an earlier
// group in flight, or of a row held back. The proposals go at the end too:
// their items may be an earlier group's. Both parts say no progress: their
// outcomes are what the database changed of the batch's.
func (s *parallelSink) split(f *flight, b *store.Batch) (now, later *store.Batch) {
	var held []int
	for i := range b.Rows {
		r := &b.Rows[i]
		k := invoiceKey{r.Account, s.lowerVendor(r.Vendor), r.InvoiceNumber}
		back := s.waits(f, k, r)
		if back {
			held = append(held, i)
			f.heldInvoices[k] = true
		}
		if s.invoices[k] != f {
			s.invoices[k] = f
			f.invoices = append(f.invoices, k)
		}
		for _, it := range r.NewItems {
			s.items[it.ID] = f
			f.items = append(f.items, it.ID)
			if back {
				f.heldItems[it.ID] = true
			}
		}
	}
	n := *b
	n.Progress, n.Proposals, now = store.Progress{}, nil, &n
	if len(held) == 0 && len(b.Proposals) == 0 {
		return now, nil
	}
	l := &store.Batch{RunID: b.RunID, Account: b.Account, Owner: b.Owner, From: b.From, Proposals: b.Proposals, Force: b.Force, Seen: b.Seen}
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
	n.Ends = nil
	if held[len(held)-1] == len(held)-1 {
		// The usual case: an invoice begun in the group before.
		k, raw := len(held), b.Raw
		n.Rows = b.Rows[k:]
		n.Raw = func(i int) []byte { return raw(k + i) }
		return now, l
	}
	n.Rows = make([]store.Row, 0, len(b.Rows)-len(held))
	var nowIx []int
	h := 0
	for i := range b.Rows {
		if h < len(held) && held[h] == i {
			h++
			continue
		}
		n.Rows = append(n.Rows, b.Rows[i])
		nowIx = append(nowIx, i)
	}
	raw := b.Raw
	n.Raw = func(i int) []byte { return raw(nowIx[i]) }
	return now, l
}

// waits says whether a row of group f needs what an earlier group in
// flight writes, or a row f holds back.
func (s *parallelSink) waits(f *flight, k invoiceKey, r *store.Row) bool {
	if g, ok := s.invoices[k]; ok && g != f || f.heldInvoices[k] {
		return true
	}
	needs := func(id *int64) bool {
		g, ok := s.items[id]
		return ok && (g != f || f.heldItems[id])
	}
	if r.ItemID != nil && needs(r.ItemID) {
		return true
	}
	for _, m := range r.NewMappings {
		if needs(m.ItemID) {
			return true
		}
	}
	return false
}

// lowerVendor is the vendor as invoices key it.
func (s *parallelSink) lowerVendor(v string) string {
	l, ok := s.lower[v]
	if !ok {
		if len(s.lower) > 1000 {
			clear(s.lower)
		}
		l = strings.ToLower(v)
		s.lower[v] = l
	}
	return l
}

// forget removes what a harvested group registered.
func (s *parallelSink) forget(f *flight) {
	for _, k := range f.invoices {
		if s.invoices[k] == f {
			delete(s.invoices, k)
		}
	}
	for _, id := range f.items {
		if s.items[id] == f {
			delete(s.items, id)
		}
	}
}
