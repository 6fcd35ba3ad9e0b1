package store

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Origin names a rejected record that comes back, fixed, from a rejects
// file: the run that rejected it and its position in that run's input.
type Origin struct{ Run, Record int64 }

// Refusal is a row the batch refuses itself, before the database sees it:
// a duplicate invoice, a reject taken back twice.
type Refusal struct{ Reason, Rule string }

func (r *Refusal) Error() string { return r.Reason }

// settle decides what only the database knows before a batch's rows are
// written: which fixed records may come home (each reject is taken back
// once, and belongs to the invoices of the run it first came from), and
// which rows belong to an invoice another run owns (duplicates, unless the
// batch is forced).
func (w *batchWriter) settle(ctx context.Context, tx pgx.Tx) error {
	var err error
	if w.homes, err = w.takeBack(ctx, tx); err != nil {
		return err
	}
	return w.claimInvoices(ctx, tx, w.homes)
}

// takeBack marks the rejects that the batch's records came from resolved
// by this run, and returns each row's home run. A row whose reject was
// taken back already, or that is no reject, is refused; a record rejected
// again keeps its home.
func (w *batchWriter) takeBack(ctx context.Context, tx pgx.Tx) ([]int64, error) {
	b := w.b
	homes := make([]int64, len(b.Rows))
	w.rejectHomes = make([]int64, len(b.Rejects))
	type ref struct {
		row bool
		i   int
	}
	refs := map[Origin][]ref{}
	for i := range b.Rows {
		homes[i] = b.RunID
		if o := b.Rows[i].Origin; o.Run > 0 {
			refs[o] = append(refs[o], ref{true, i})
		}
	}
	for j := range b.Rejects {
		w.rejectHomes[j] = b.RunID
		if o := b.Rejects[j].Origin; o.Run > 0 {
			refs[o] = append(refs[o], ref{false, j})
		}
	}
	if len(refs) == 0 {
		return homes, nil
	}
	origins := make([]Origin, 0, len(refs))
	for o := range refs {
		origins = append(origins, o)
	}
	slices.SortFunc(origins, func(a, b Origin) int { return cmp.Or(cmp.Compare(a.Run, b.Run), cmp.Compare(a.Record, b.Record)) })
	runs, records := make([]int64, len(origins)), make([]int64, len(origins))
	for i, o := range origins {
		runs[i], records[i] = o.Run, o.Record
	}
	// Each reject is found by its run and record, both from the list, and
	// import_runs is only read for the runs of the rejects found: joined
	// to it, a plan made before the rejects table had statistics found the
	// rejects by the run's account and id alone, and read all of a run's
	// rejects for each one taken back (117 s for 7,500 of 100,000).
	// Only a reject of the run's own account comes home: a record naming
	// another account's reject must not take it, nor enter its invoices.
	rows, err := tx.Query(ctx, `UPDATE rejects AS j SET resolved_by = $1
		FROM unnest($2::bigint[], $3::bigint[]) AS u(run_id, record_no)
		WHERE j.account = $4 AND j.run_id = u.run_id AND j.record_no = u.record_no AND j.resolved_by IS NULL
		  AND NOT EXISTS (SELECT FROM import_runs r WHERE r.id = j.run_id AND r.status = 'reverted')
		  AND NOT EXISTS (SELECT FROM import_runs h WHERE h.id = j.home_run AND h.status = 'reverted')
		RETURNING j.run_id, j.record_no, j.home_run`, b.RunID, runs, records, b.Account)
	if err != nil {
		return nil, err
	}
	taken := map[Origin]int64{}
	var o Origin
	var home int64
	if _, err := pgx.ForEachRow(rows, []any{&o.Run, &o.Record, &home}, func() error { taken[o] = home; return nil }); err != nil {
		return nil, err
	}
	var why map[Origin]string
	var settled map[Origin]bool
	for o, rs := range refs {
		home, ok := taken[o]
		if !ok && why == nil {
			if why, settled, err = w.whyNotTaken(ctx, tx, runs, records); err != nil {
				return nil, err
			}
		}
		for n, r := range rs {
			switch {
			case !r.row && ok:
				w.rejectHomes[r.i] = home
			case r.row && ok && n == 0:
				homes[r.i] = home
			case r.row && ok:
				w.hold(r.i, fmt.Sprintf("_record: record %d of run %d is in this input more than once", o.Record, o.Run), "_record: the same rejected record more than once")
			case r.row:
				w.hold(r.i, why[o], "_record: a rejected record already taken back, or no rejected record")
				if settled[o] {
					w.markSettled(&w.settled, r.i, why[o])
				}
			case settled[o]:
				// Rejected before the database, for another field: fixed
				// again, it must not come home a second time either.
				w.markSettled(&w.rejectSettled, r.i, why[o])
			}
		}
	}
	return homes, nil
}

// markSettled marks the i-th row or reject a record imported already.
func (w *batchWriter) markSettled(m *map[int]string, i int, why string) {
	if *m == nil {
		*m = map[int]string{}
	}
	(*m)[i] = why
}

// whyNotTaken says, for origins that could not be taken back, why, and
// which are records imported already: taken back by another run, or of a
// reverted run (whose source, imported again, brings them anew).
func (w *batchWriter) whyNotTaken(ctx context.Context, tx pgx.Tx, runs, records []int64) (map[Origin]string, map[Origin]bool, error) {
	states, err := rejectStates(ctx, tx, w.b.Account, runs, records)
	why, settled := map[Origin]string{}, map[Origin]bool{}
	for o, st := range states {
		why[o], settled[o] = st.why(o, w.b.Account)
	}
	return why, settled, err
}

// rejectState is where a rejected record stands.
type rejectState struct {
	home     int64  // the run whose invoices it belongs to; 0: no such reject
	by       *int64 // the run that took it back, if one did
	reverted int64  // its run, or its home run, if reverted
}

// free says the record can come home.
func (st rejectState) free() bool { return st.home != 0 && st.by == nil && st.reverted == 0 }

// why says why a record cannot come home, and whether it is imported
// already.
func (st rejectState) why(o Origin, account string) (string, bool) {
	switch {
	case st.reverted > 0:
		return fmt.Sprintf("_record: record %d of run %d belongs to run %d, which was reverted: import that run's source again instead", o.Record, o.Run, st.reverted), true
	case st.by != nil:
		return fmt.Sprintf("_record: record %d of run %d was already taken back, by run %d: a fixed record is imported once", o.Record, o.Run, *st.by), true
	}
	return fmt.Sprintf("_record: record %d of run %d is no rejected record of that run in account %q", o.Record, o.Run, account), false
}

// rejectStates reads where the rejects of account at runs[i], records[i]
// stand.
func rejectStates(ctx context.Context, q querier, account string, runs, records []int64) (map[Origin]rejectState, error) {
	rows, err := q.Query(ctx, `SELECT u.run_id, u.record_no, coalesce(j.home_run, 0), j.resolved_by,
			coalesce((SELECT h.id FROM import_runs h WHERE h.id IN (u.run_id, j.home_run) AND h.status = 'reverted' LIMIT 1), 0)
		FROM unnest($1::bigint[], $2::bigint[]) AS u(run_id, record_no)
		LEFT JOIN rejects j ON j.account = $3 AND j.run_id = u.run_id AND j.record_no = u.record_no`, runs, records, account)
	if err != nil {
		return nil, err
	}
	states := map[Origin]rejectState{}
	var o Origin
	var st rejectState
	_, err = pgx.ForEachRow(rows, []any{&o.Run, &o.Record, &st.home, &st.by, &st.reverted}, func() error {
		states[o] = st
		return nil
	})
	return states, err
}

// RejectHomes says, read-only, for each fixed record of origins, the run
// whose invoices it would come home to, or why it cannot: a read-only dry
// run tells what an import would (takeBack).
func (s *Store) RejectHomes(ctx context.Context, account string, origins []Origin) (homes map[Origin]int64, why map[Origin]string, err error) {
	runs, records := make([]int64, len(origins)), make([]int64, len(origins))
	for i, o := range origins {
		runs[i], records[i] = o.Run, o.Record
	}
	states, err := rejectStates(ctx, s.q(), account, runs, records)
	homes, why = map[Origin]int64{}, map[Origin]string{}
	for o, st := range states {
		if st.free() {
			homes[o] = st.home
		} else {
			why[o], _ = st.why(o, account)
		}
	}
	return homes, why, err
}

// claimInvoices gives the invoices of the batch's rows that no run owns yet
// to their rows' home runs, and refuses the rows of invoices another run
// owns.
//
// Each spelling of a vendor is claimed: the database keys it
// (invoice_vendor), and where its key is not Go's (a database not in
// UTF-8 lowers only ASCII), two spellings Go takes for one may be two
// invoices there, each to be claimed. The invoices Go foresees as one
// entry's are known from what the insert returns; the others are read
// back.
func (w *batchWriter) claimInvoices(ctx context.Context, tx pgx.Tx, homes []int64) error {
	type key = invoiceEntry
	index := map[key]int{}       // by the vendor as written
	keyed := map[key][]int{}     // by the vendor as invoices key it
	lower := map[string]string{} // a batch has few vendors: key each once
	rowKey := make([]int, len(w.b.Rows))
	var accounts, vendors, numbers []string
	var owners []int64
	// An invoice's rows come together: a row of the last entry's invoice
	// is known without a look-up.
	last, lastN := key{}, -1
	for i := range w.b.Rows {
		r := &w.b.Rows[i]
		k := key{r.Account, r.Vendor, r.InvoiceNumber}
		n, ok := lastN, lastN >= 0 && k == last
		if !ok {
			n, ok = index[k]
		}
		rowKey[i] = n
		if ok {
			last, lastN = k, n
		}
		if w.refused[i] != nil || ok {
			continue
		}
		v, ok := lower[r.Vendor]
		if !ok {
			v = InvoiceVendor(r.Vendor)
			lower[r.Vendor] = v
		}
		kk := key{r.Account, v, r.InvoiceNumber}
		keyed[kk] = append(keyed[kk], len(accounts))
		rowKey[i] = len(accounts)
		index[k] = len(accounts)
		last, lastN = k, len(accounts)
		accounts, vendors, numbers, owners = append(accounts, r.Account), append(vendors, r.Vendor), append(numbers, r.InvoiceNumber), append(owners, homes[i])
	}
	if len(accounts) == 0 {
		return nil
	}
	// The invoices inserted are the batch's own; only the others need
	// reading back, to learn which run owns them.
	inserted := make([]bool, len(accounts))
	refused := map[int]error{} // claims the database refused, by entry
	if !w.careful {
		// A refusal sends the batch again, carefully.
		if err := claim(ctx, tx, accounts, vendors, numbers, owners, keyed, inserted); err != nil {
			return err
		}
	} else if err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		return claim(ctx, sp, accounts, vendors, numbers, owners, keyed, inserted)
	}); IsRowError(err) {
		// An invoice the database refuses (a character its encoding cannot
		// hold, an operator's trigger) refuses its rows, not the batch:
		// each invoice is claimed alone.
		for n := range accounts {
			err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
				return claim(ctx, sp, accounts[n:n+1], vendors[n:n+1], numbers[n:n+1], owners[n:n+1], keyed, inserted)
			})
			switch {
			case IsRowError(err):
				refused[n] = err
			case err != nil:
				return err
			}
		}
	} else if err != nil {
		return err
	}
	var others []int32
	for n, ok := range inserted {
		if _, no := refused[n]; !ok && !no {
			others = append(others, int32(n))
		}
	}
	names := make([]string, len(owners))
	if len(others) > 0 {
		found, sources, err := invoiceOwners(ctx, tx, pick(accounts, others), pick(vendors, others), pick(numbers, others))
		if err != nil {
			return err
		}
		for j, n := range others {
			if found[j] != 0 { // else gone since: the row's home takes it
				owners[n], names[n] = found[j], sources[j]
			}
		}
	}
	for i := range w.b.Rows {
		if err, ok := refused[rowKey[i]]; ok && w.refused[i] == nil {
			w.refused[i], w.held[i] = err, true
		}
	}
	if w.b.Force {
		return nil
	}
	for i := range w.b.Rows {
		r := &w.b.Rows[i]
		n := rowKey[i]
		if w.refused[i] == nil && owners[n] != homes[i] {
			d := DuplicateInvoice(r, owners[n], names[n])
			w.hold(i, d.Reason, d.Rule)
		}
	}
	return nil
}

// claim inserts the invoices no run owns yet, and marks those inserted:
// the entries that keyed says are one invoice's.
func claim(ctx context.Context, tx pgx.Tx, accounts, vendors, numbers []string, owners []int64, keyed map[invoiceEntry][]int, inserted []bool) error {
	rows, err := tx.Query(ctx, `INSERT INTO invoices (account, vendor, invoice_number, run_id)
			SELECT u.a, invoice_vendor(u.v), u.n, u.h FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(a, v, n, h)
			ORDER BY 1, 2, 3
			ON CONFLICT DO NOTHING
			RETURNING account, vendor, invoice_number`, customPlan, accounts, vendors, numbers, owners)
	if err != nil {
		return err
	}
	var k invoiceEntry
	_, err = pgx.ForEachRow(rows, []any{&k.account, &k.vendor, &k.number}, func() error {
		// invoice_vendor() in the database may key a vendor other than Go
		// does, and of several spellings of one key only one is inserted:
		// the others are read back.
		if ns := keyed[k]; len(ns) == 1 {
			inserted[ns[0]] = true
		}
		return nil
	})
	return err
}

// invoiceEntry is an invoice of a batch's rows.
type invoiceEntry struct{ account, vendor, number string }

// DuplicateInvoice is the refusal of a row whose invoice run owns, which
// imported source.
func DuplicateInvoice(r *Row, run int64, source string) *Refusal {
	return &Refusal{Reason: fmt.Sprintf("duplicate invoice %s from %s, imported by run %d (%s)", r.InvoiceNumber, r.Vendor, run, filepath.Base(source)),
		Rule: "duplicate invoice, imported by another run"}
}

// InvoiceVendor is the vendor an invoice is keyed by, as the database's
// invoice_vendor (migration 0011) computes it: lower case, dashes,
// slashes, underscores, tabs and wider spaces read as spaces, ASCII
// punctuation and what shows nothing dropped, spaces collapsed, so that
// "U.S. Foods" and "US  Foods" re-send the invoices of "US Foods", as
// their item mappings are its. Where the two
// differ (lower case beyond ASCII, by the database's locale; a database
// not in UTF-8), the database's is the key: the importer reads back what
// it did not foresee.
func InvoiceVendor(v string) string {
	l := strings.ToLower(v)
	k := strings.Join(strings.FieldsFunc(strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(invoiceSpaces, r):
			return ' '
		case strings.ContainsRune(invoiceDropped, r):
			return -1
		}
		return r
	}, l), func(r rune) bool { return r == ' ' }), " ")
	if k == "" {
		return l
	}
	return k
}

// What invoice_vendor reads as a space, and what it drops: ASCII
// punctuation, and what shows nothing (as invoice.Validate drops it from
// invoice numbers). Beyond ASCII, only in a UTF-8 database.
const (
	invoiceSpaces  = "-/_\t\u00a0\u2007\u202f\u3000"
	invoiceDropped = "\u200b\u2060\u00ad\ufeff.,'\"!?:;()[]{}<>*+=#@$%^~|\\&`"
)

// InvoiceKey is an invoice as a row names it: its vendor as written.
type InvoiceKey struct{ Account, Vendor, Number string }

// InvoiceOwners returns, for each invoice, the run that owns it and that
// run's source, or 0 and "" for an invoice no run owns: a read-only dry
// run tells the duplicate invoices an import would refuse.
func (s *Store) InvoiceOwners(ctx context.Context, keys []InvoiceKey) ([]int64, []string, error) {
	accounts, vendors, numbers := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		accounts[i], vendors[i], numbers[i] = k.Account, k.Vendor, k.Number
	}
	return invoiceOwners(ctx, s.q(), accounts, vendors, numbers)
}

// invoiceOwners is InvoiceOwners, of the invoices given column by column.
func invoiceOwners(ctx context.Context, q querier, accounts, vendors, numbers []string) ([]int64, []string, error) {
	owners, names := make([]int64, len(accounts)), make([]string, len(accounts))
	if len(accounts) == 0 {
		return owners, names, nil
	}
	rows, err := q.Query(ctx, `SELECT u.i, i.run_id, coalesce(r.source_name, '')
		FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(a, v, n, i)
		JOIN invoices i ON i.account = u.a AND i.vendor = invoice_vendor(u.v) AND i.invoice_number = u.n
		LEFT JOIN import_runs r ON r.id = i.run_id`, customPlan, accounts, vendors, numbers)
	if err != nil {
		return nil, nil, err
	}
	var i, owner int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&i, &owner, &name}, func() error {
		owners[i-1], names[i-1] = owner, name
		return nil
	})
	return owners, names, err
}

// pick returns the elements of s at the indexes ix.
func pick[T any](s []T, ix []int32) []T {
	out := make([]T, len(ix))
	for j, i := range ix {
		out[j] = s[i]
	}
	return out
}

// hold refuses a row before the database sees it; the items and mappings
// it was the first to need are still written, for the rows after it.
func (w *batchWriter) hold(i int, reason, rule string) {
	w.refused[i] = &Refusal{Reason: reason, Rule: rule}
	w.held[i] = true
}
