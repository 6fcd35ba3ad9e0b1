package importer

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/store"
)

// dryRunSink writes nothing: dryrun, and dryrun --offline. Every row is
// counted imported but those an import refuses before writing them
// (duplicates, fixed records that cannot come home), which a read-only dry
// run asks the database for, and those that would take their item's stock
// to 10^15 or more (store.PastAStock; Earlier.addStock, which sums it from
// the database's as the import adds it); every new item a row imported
// uses counts as created. The rejects go to the rejects file only when one was asked for.
type dryRunSink struct {
	rejects *rejectsWriter // nil: none
	written store.Progress
	db      *store.Store      // nil: offline
	mu      *sync.Mutex       // the dry run's stages share db's connection
	account string            // the run's, whose rejects come home
	homes   [2]int64          // the source's run resumed, or superseded: its invoices are the rows'; 0: none
	count   func(rule string) // counts a rule of the rows refused
	items   map[*int64]bool   // the items the run creates, by id slot: whether a row imported uses one
	earlier *Earlier          // what this input before, and the invocation's inputs before it, would import
	shared  bool              // earlier is the invocation's: the invoices go in it too
	source  string            // the input, named in Earlier
}

func (s *dryRunSink) done() store.Progress { return s.written }

func (s *dryRunSink) abandon(context.Context) {}

func (s *dryRunSink) commit(ctx context.Context, b *store.Batch, _ bool) (store.Outcome, error) {
	if b == nil {
		return store.Outcome{Progress: s.written}, nil
	}
	out := store.Outcome{Progress: b.Progress}
	refused, err := s.duplicates(ctx, b)
	if err != nil {
		return out, err
	}
	out.Progress.RowsImported -= int64(len(refused))
	out.Progress.RowsRejected += int64(len(refused))
	out.ItemsCreated = s.created(b, refused)
	out.Progress.ItemsCreated += int64(out.ItemsCreated)
	if s.rejects != nil {
		rejects := append(slices.Clone(b.Rejects), refused...)
		slices.SortFunc(rejects, func(a, b store.Reject) int { return cmp.Compare(a.Record, b.Record) })
		for _, rj := range rejects {
			if err := s.rejects.write(rj); err != nil {
				return out, err
			}
		}
	}
	s.written = out.Progress
	return out, nil
}

// created counts the items the batch's rows create that a row imported
// uses, now or in a batch before: an import deletes at its end the items
// it created that nothing uses (rows refused as duplicates).
func (s *dryRunSink) created(b *store.Batch, refused []store.Reject) int {
	if s.items == nil {
		s.items = map[*int64]bool{}
	}
	for i := range b.Rows {
		for _, it := range b.Rows[i].NewItems {
			if _, ok := s.items[it.ID]; !ok {
				s.items[it.ID] = false
			}
		}
	}
	use := func(id *int64) int {
		if used, ok := s.items[id]; ok && !used {
			s.items[id] = true
			return 1
		}
		return 0
	}
	n, next := 0, 0 // refused is in record order, as the rows are
	for i := range b.Rows {
		if next < len(refused) && refused[next].Record == b.Rows[i].Record {
			next++
			continue
		}
		n += use(b.Rows[i].ItemID)
	}
	for _, p := range b.Proposals {
		n += use(p.ItemID)
	}
	return n
}

// duplicates are the rejects of the batch's rows that an import refuses
// before writing them (store.batchWriter.settle): a fixed record that
// cannot come home (taken back already, or twice in the input), and a row
// of an invoice another run owns than its home run (a fixed record's is
// the run it first came from), unless forced.
func (s *dryRunSink) duplicates(ctx context.Context, b *store.Batch) ([]store.Reject, error) {
	if s.db == nil {
		return nil, nil
	}
	index := map[store.InvoiceKey]int{}
	var keys []store.InvoiceKey
	var origins []store.Origin
	for i := range b.Rows {
		r := &b.Rows[i]
		k := store.InvoiceKey{Account: r.Account, Vendor: r.Vendor, Number: r.InvoiceNumber}
		if _, ok := index[k]; !ok {
			index[k] = len(keys)
			keys = append(keys, k)
		}
		if r.Origin.Run > 0 {
			origins = append(origins, r.Origin)
		}
	}
	for _, rj := range b.Rejects {
		if rj.Origin.Run > 0 {
			origins = append(origins, rj.Origin) // rejected again: still taken back
		}
	}
	var items []store.StockKey // whose stock is not known yet
	for i := range b.Rows {
		for _, it := range b.Rows[i].NewItems {
			s.earlier.names[it.ID] = it.Normalized
		}
		if k := s.earlier.stockOf(&b.Rows[i]); k.id != 0 {
			if _, ok := s.earlier.stock[k]; !ok {
				s.earlier.stock[k] = decimal.Zero // once
				items = append(items, store.StockKey{Account: k.account, ID: k.id})
			}
		}
	}
	s.mu.Lock()
	stocks, err := s.db.Stocks(ctx, items)
	for k, q := range stocks {
		s.earlier.stock[stockOf{account: k.Account, id: k.ID}] = q
	}
	var owners []int64
	var sources []string
	if err == nil {
		owners, sources, err = s.db.InvoiceOwners(ctx, keys)
	}
	var homes map[store.Origin]int64
	var why map[store.Origin]string
	if err == nil && len(origins) > 0 {
		homes, why, err = s.db.RejectHomes(ctx, s.account, origins)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var refused []store.Reject
	refuse := func(i int, err error) {
		r := &b.Rows[i]
		rj := store.RowReject(r.Record, r.Line, b.Raw(i), err)
		s.count(rj.Rule)
		refused = append(refused, rj)
	}
	// stock refuses a row whose quantity no stock holds, or keeps it for
	// its stock to be added (addStock), once its invoice is claimed, as an
	// import claims it before the row is refused.
	var stocked []int
	stock := func(i int) {
		if err := store.PastAStock(&b.Rows[i]); err != nil {
			refuse(i, err)
		} else {
			stocked = append(stocked, i)
		}
	}
	for i := range b.Rows {
		r := &b.Rows[i]
		home := s.homes[0]
		if o := r.Origin; o.Run > 0 {
			gone := o.Run // its run or its home run, if superseded
			if s.earlier.superseded[gone] == "" {
				gone = homes[o]
			}
			switch {
			case s.earlier.superseded[gone] != "":
				refuse(i, &store.Refusal{Reason: fmt.Sprintf("_record: record %d of run %d belongs to run %d, which an input before it (%s) imports again in its place: the record is imported with it, not apart",
					o.Record, o.Run, gone, filepath.Base(s.earlier.superseded[gone])), Rule: "_record: a rejected record already taken back, or no rejected record"})
				continue
			case why[o] != "":
				refuse(i, &store.Refusal{Reason: why[o], Rule: "_record: a rejected record already taken back, or no rejected record"})
				continue
			case s.earlier.taken[o] == s.source:
				refuse(i, &store.Refusal{Reason: fmt.Sprintf("_record: record %d of run %d is in this input more than once", o.Record, o.Run),
					Rule: "_record: the same rejected record more than once"})
				continue
			case s.earlier.taken[o] != "":
				refuse(i, &store.Refusal{Reason: fmt.Sprintf("_record: record %d of run %d was already taken back, by an input before it (%s): a fixed record is imported once",
					o.Record, o.Run, filepath.Base(s.earlier.taken[o])), Rule: "_record: a rejected record already taken back, or no rejected record"})
				continue
			}
			s.earlier.taken[o], home = s.source, homes[o]
		}
		n := index[store.InvoiceKey{Account: r.Account, Vendor: r.Vendor, Number: r.InvoiceNumber}]
		if !b.Force && owners[n] != 0 && owners[n] != home && (r.Origin.Run > 0 || !slices.Contains(s.homes[:], owners[n])) {
			refuse(i, store.DuplicateInvoice(r, owners[n], sources[n]))
			continue
		}
		if owners[n] != 0 {
			stock(i)
			continue // its run's, or its home run's
		}
		// Claimed by an input before, for that input's run or a fixed
		// record's home run: the row's own only when it is the same.
		k := invoiceKey{r.Account, store.InvoiceVendor(r.Vendor), r.InvoiceNumber}
		mine := claim{input: s.source}
		if r.Origin.Run > 0 {
			mine.home = home
		}
		c, ok := s.earlier.invoices[k]
		switch {
		case !ok:
			if s.shared {
				s.earlier.invoices[k] = mine
			}
		case !b.Force && c.home != mine.home || !b.Force && c.home == 0 && c.input != s.source:
			refuse(i, &store.Refusal{Reason: fmt.Sprintf("duplicate invoice %s from %s, imported by an input before it (%s)", r.InvoiceNumber, r.Vendor, filepath.Base(c.input)),
				Rule: store.DuplicateInvoice(r, 0, "").Rule})
			continue
		}
		stock(i)
	}
	for _, i := range s.earlier.addStock(s.source, b.Rows, stocked) {
		refuse(i, store.ErrStockPast)
	}
	slices.SortFunc(refused, func(a, b store.Reject) int { return cmp.Compare(a.Record, b.Record) })
	for _, rj := range b.Rejects {
		if o := rj.Origin; o.Run > 0 && why[o] == "" && s.earlier.taken[o] == "" {
			s.earlier.taken[o] = s.source
		}
	}
	return refused, nil
}
