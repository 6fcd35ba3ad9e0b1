package store

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batchimport/batchimport/internal/fixed"
)

// Row is one transaction row: one valid, resolved invoice line, with the
// items and mappings it is the first to need.
type Row struct {
	Line          int64 // physical line where the record starts
	Record        int64 // the record's position in the input
	Account       string
	ItemID        *int64
	InvoiceNumber string
	InvoiceDate   string
	Vendor        string
	VendorSKU     string
	Description   string
	Quantity      fixed.Decimal // as read, in Unit
	Unit          string
	Pack          string
	BaseQuantity  fixed.Decimal // in the item's base unit: what the row adds to its stock
	UnitCost      fixed.Decimal
	NewItems      []NewItem    // created for this row, before it
	NewMappings   []NewMapping // stored for this row, before it
	Origin        Origin       // the reject this row is, fixed; zero for most
}

// Batch is what one transaction writes: consecutive records of a run, as
// rows and as records rejected before reaching the database, and the
// progress the run reaches with them.
type Batch struct {
	RunID   int64
	Account string // the run's account, which keys its rejects
	Owner   string // the run's owner token: the commit is refused without it
	From    int64  // the run's checkpoint (Progress.Record) before the batch
	Rows    []Row
	Rejects []Reject // records rejected before the database
	// Proposals are what some of Rejects wait for: a person's review.
	Proposals []Proposal
	Force     bool // import rows of invoices other runs own
	// Seen maps each account whose catalogue the rows were resolved
	// against to its latest correction then: the commit is refused
	// (*StaleCatalogueError) if the account was corrected since.
	Seen map[string]int64
	// Raw returns the record of Rows[i] as read, for when the database
	// refuses that row.
	Raw func(i int) []byte
	// Progress is where the run stands after the batch if the database
	// takes every row; WriteBatch adds the items created, and moves the
	// rows refused to the rejected.
	Progress Progress
	// Ends marks where each chunk's rows end (Rows[:Ends[0]] is the first
	// chunk's): a chunk with a row refused counts as replayed.
	Ends []int
	// Release, when set, is called once the rows are written and Raw is
	// no longer needed: their arrays may then carry another batch.
	Release func()
}

// Outcome is what a batch's transaction did.
type Outcome struct {
	Progress     Progress   // as committed
	ItemsCreated int        // items inserted (not found already there)
	Refused      []RowError // rows the database refused, in row order
}

// RowError is a row the database refused.
type RowError struct {
	Index int // into Batch.Rows
	Err   error
}

// WriteBatch writes a batch in one transaction: the new items and mappings,
// one COPY of the rows, one statement adding their stock per item, the
// rejects, and the checkpoint, which is refused (*FencedError) unless the
// batch's owner still holds the run. No savepoints on the way. When the
// database refuses a row (IsRowError), the transaction is rolled back and
// the batch written again carefully (batchWriter.replay); each refused row
// is then a reject, with its SQLSTATE, and every other row commits.
func (s *Store) WriteBatch(ctx context.Context, b *Batch) (Outcome, error) {
	out, w, err := s.writeBatch(ctx, b, nil)
	if IsRowError(err) {
		out, _, err = s.writeBatch(ctx, b, w.refusal(err))
	}
	return out, s.lost(err)
}

// writeBatch is one attempt at a batch, in a transaction of its own:
// carefully when refused says what an attempt before was refused.
func (s *Store) writeBatch(ctx context.Context, b *Batch, refused *refusal) (Outcome, *batchWriter, error) {
	if s.conn == nil {
		return Outcome{}, nil, errNotConnected
	}
	var out Outcome
	w := newBatchWriter(s, b, make(stockSums, len(b.Rows)))
	w.alone = true
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		if err := s.lockSeen(ctx, tx, b.Seen); err != nil {
			return err
		}
		var err error
		if out, err = w.run(ctx, tx, refused); err != nil {
			return err
		}
		if err := w.stock.apply(ctx, tx); err != nil {
			return err
		}
		if err := s.fresh(ctx, tx, b.Seen); err != nil {
			return err
		}
		return s.checkpoint(ctx, tx, b.RunID, b.Owner, b.From, out.Progress, w.accounts())
	})
	return out, w, err
}

// batchWriter is one attempt at a batch, in a transaction of its own or in
// a group's.
type batchWriter struct {
	s       *Store
	b       *Batch
	stock   stockSums  // the stock the rows written add, applied at commit
	careful bool       // each write in a savepoint
	piece   pieceState // where the savepoint of careful COPYs stands
	hint    *refusal   // a row known refused, not yet set apart
	last    int        // the last row the database refused; -1: none yet
	copied  []int      // the rows of the last COPY, by index
	// alone: a careful write applies its own stock at once, so that a row
	// overflowing an item's stock is found; in a group (!alone) it adds
	// to the group's sums, as every other write, and no item is locked
	// before the group commits.
	alone   bool
	created int
	failed  map[*int64]error // items whose creation was refused
	refused map[int]error    // rows refused, by index
	held    map[int]bool     // refused before the database, keeping their items and mappings
	// homes and rejectHomes are the home runs of the batch's Rows and
	// Rejects: the run whose invoices each belongs to.
	homes, rejectHomes []int64
	// settled are the rows, and the Rejects, that are a record imported
	// already (taken back before, or of a reverted run): rejected, and
	// resolved at once, so that no fix of them comes home a second time.
	settled, rejectSettled map[int]string
}

func newBatchWriter(s *Store, b *Batch, stock stockSums) *batchWriter {
	return &batchWriter{s: s, b: b, stock: stock, last: -1, failed: map[*int64]error{}, refused: map[int]error{}, held: map[int]bool{}}
}

// run writes the batch in tx, all rows at once, or carefully (replay)
// after an attempt was refused, or when the batch before had refused rows
// (refused is then a refusal of no row). The rejects go in too; the stock
// is left to the caller, who applies w.stock before committing.
func (w *batchWriter) run(ctx context.Context, tx pgx.Tx, refused *refusal) (Outcome, error) {
	w.careful, w.hint = refused != nil, refused
	err := w.settle(ctx, tx)
	switch {
	case err != nil:
	case w.careful:
		if err = w.replay(ctx, tx, 0, len(w.b.Rows)); err == nil {
			err = w.endPieces(ctx, tx)
		}
	default:
		err = w.write(ctx, tx, 0, len(w.b.Rows))
	}
	if err != nil {
		return Outcome{}, err
	}
	out := w.outcome()
	if err := w.s.insertProposals(ctx, tx, w.b.RunID, w.proposals()); err != nil {
		return out, err
	}
	return out, w.s.insertRejects(ctx, tx, w.rejects())
}

// write sends rows [lo, hi) with the items and mappings they need, leaving
// out rows already refused, and their stock: at once when careful and
// alone, else counted for the commit.
func (w *batchWriter) write(ctx context.Context, tx pgx.Tx, lo, hi int) error {
	var items []NewItem
	var maps []NewMapping
	rows := make([]*Row, 0, hi-lo)
	w.copied = slices.Grow(w.copied[:0], hi-lo)
	for i := lo; i < hi; i++ {
		r := &w.b.Rows[i]
		if err, ok := w.failed[r.ItemID]; ok {
			w.refused[i] = err
			continue
		}
		if w.refused[i] == nil || w.held[i] {
			items = append(items, r.NewItems...)
			maps = append(maps, r.NewMappings...)
		}
		if w.refused[i] == nil {
			rows = append(rows, r)
			w.copied = append(w.copied, i)
		}
	}
	open := ""
	if w.careful {
		open = w.opening()
		if open != "" && (len(items)+len(maps) > 0 || len(rows) == 0) {
			if _, err := tx.Exec(ctx, open); err != nil {
				return err
			}
			open = ""
		}
	}
	created, err := w.catalogue(ctx, tx, items, maps)
	if err != nil {
		return err
	}
	if w.careful {
		if err := w.s.copyRows(ctx, tx, w.b.RunID, rows, open); err != nil {
			return err
		}
		if !w.alone {
			w.stock.add(rows)
		} else if err := (stockSums{}).add(rows).apply(ctx, tx); err != nil {
			// A sum that overflows an item's stock is a refused row too.
			return stockOverflow(err)
		}
	} else if err := w.copyAndCount(ctx, tx, rows); err != nil {
		return err
	}
	w.created += created
	return nil
}

// copyAndCount sends the rows and adds their stock to the transaction's
// sums meanwhile: the server spends its time on the COPY, and the sums
// would otherwise keep it waiting for the next batch. Should the COPY fail,
// the transaction is rolled back, sums and all.
func (w *batchWriter) copyAndCount(ctx context.Context, tx pgx.Tx, rows []*Row) error {
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		w.stock.add(rows)
	}()
	err := w.s.copyRows(ctx, tx, w.b.RunID, rows, "")
	<-counted
	return err
}

// catalogue inserts new items and mappings, and says how many items it
// created.
func (w *batchWriter) catalogue(ctx context.Context, tx pgx.Tx, items []NewItem, maps []NewMapping) (int, error) {
	created, err := w.s.insertItems(ctx, tx, w.b.RunID, items)
	if err != nil {
		return 0, err
	}
	return created, w.s.insertMappings(ctx, tx, w.b.RunID, maps)
}

// ReplayPiece is how many rows a careful write sends in its first COPY
// (and the pieces a read-only dry run sums stock in, as the import would);
// each COPY that goes in doubles the next. A row the database refuses
// costs the rows sent before it in its COPY once more, so the COPY after a
// refused row starts again at RefusedPiece rows: refused rows come
// together more often than not (a bad delivery, an item, a vendor), and
// those further apart cost a COPY more for each doubling between them.
// When they come at a steady pace, though, the COPYs go up to where the
// next is likely to be (plan).
const (
	ReplayPiece  = 512
	RefusedPiece = 64
)

// replay writes rows [lo, hi) carefully, in COPYs of ReplayPiece rows and
// more, each in a savepoint. When the database refuses a row of a COPY,
// its error names the row (the COPY's line): the rows before it are
// written again, then that row alone, which is set apart when it is
// refused there, and the COPYs after it start again at RefusedPiece rows.
// When the error names no row (a foreign key, checked at the COPY's end;
// an item; the stock), the rows are halved, down to single rows, which
// are then refused.
func (w *batchWriter) replay(ctx context.Context, tx pgx.Tx, lo, hi int) error {
	piece, then := w.plan(lo, ReplayPiece)
	for lo < hi {
		ref := w.hint
		if ref != nil && ref.row >= lo && ref.row < hi {
			w.hint = nil
		} else {
			end := min(hi, lo+piece)
			err := w.writePiece(ctx, tx, lo, end)
			if err == nil || !IsRowError(err) {
				if err == nil {
					if lo, piece = end, min(2*piece, 1<<20); len(then) > 0 {
						piece, then = then[0], then[1:]
					}
					continue
				}
				return err
			}
			if ref = w.refusal(err); ref.row < lo || ref.row >= end {
				if end-lo > 1 {
					mid := lo + (end-lo)/2
					if err := w.replay(ctx, tx, lo, mid); err != nil {
						return err
					}
					if err := w.replay(ctx, tx, mid, end); err != nil {
						return err
					}
					lo = end
					continue
				}
				ref.row = lo
			}
		}
		if ref.row > lo {
			// With rows before it in its COPY, the row named may have
			// failed for one of them: it is refused only when it is
			// refused alone, after them.
			if err := w.again(ctx, tx, lo, ref.row); err != nil {
				return err
			}
			lo, piece, then = ref.row, 1, []int{RefusedPiece}
			continue
		}
		w.refused[lo] = ref.err
		at := w.b.Rows[lo].Record
		if w.last >= 0 {
			w.s.refusalGaps = [2]int64{at - w.b.Rows[w.last].Record, w.s.refusalGaps[0]}
		}
		w.last, w.s.lastRefused = lo, at
		if err := w.keepCatalogue(ctx, tx, &w.b.Rows[lo]); err != nil {
			return err
		}
		lo++
		piece, then = w.plan(lo, RefusedPiece)
	}
	return nil
}

// plan is the length of the COPY from row lo, and of the ones after it
// while they go in (then doubling): fallback, unless the last two gaps
// between refused rows, in records, were within an eighth of each other.
// A COPY costs the server about as much as 60 rows (an estimate: the
// extra server CPU of a run with refused rows over its COPYs), and the
// rows a refused one holds before its refused row go twice. When the gaps
// were the same, the next refused row is expected at the same pace from
// the last (in this batch or one before, the other writers' included):
// the COPY ends just before it, and the next is that row alone; refused,
// it is set apart, first of its COPY, having cost one row; gone in (the
// pace changed), the COPYs go on from twice the first. When they were
// within an eighth, the COPY ends a sixteenth of the gap short, and the
// next spans twice that. Rows refused every 1,000 lines then cost about
// nothing beyond their two COPYs; starting again at RefusedPiece, each
// cost about 460 rows' worth, in a model of the server's costs.
func (w *batchWriter) plan(lo, fallback int) (piece int, then []int) {
	gap, before := w.s.refusalGaps[0], w.s.refusalGaps[1]
	if gap <= 0 || lo >= len(w.b.Rows) || 8*abs(gap-before) > gap {
		return fallback, nil
	}
	margin := int64(0)
	if gap != before {
		margin = max(1, gap/16)
	}
	from, next := w.b.Rows[lo].Record, w.s.lastRefused+gap
	if w.s.lastRefused >= from {
		// The records went back (a run sent back to its checkpoint reads
		// them again): the pace says nothing of where they go now.
		return fallback, nil
	}
	if next < from {
		next += (from - next + gap - 1) / gap * gap
	}
	k := 0
	for lo+k < len(w.b.Rows) && w.b.Rows[lo+k].Record < next-margin {
		k++
	}
	switch {
	case margin > 0 && k == 0:
		return int(2 * margin), nil
	case margin > 0:
		return k, []int{int(2 * margin)}
	case k == 0:
		return 1, []int{RefusedPiece}
	}
	return k, []int{1, 2 * k}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// pieceState is where a careful write stands with the savepoint its
// pieces are written in. Each piece is one round trip: the commands that
// end the piece before it and open its own go ahead of its COPY, in the
// same query. A piece refused leaves its savepoint to be rolled back to,
// which the next piece, or endPieces, does first.
type pieceState int

const (
	pieceNone    pieceState = iota // no savepoint yet
	pieceWritten                   // a savepoint with something written since
	pieceRefused                   // a savepoint with a piece refused since
)

// opening is what opens the next piece's savepoint.
func (w *batchWriter) opening() string {
	switch w.piece {
	case pieceWritten:
		return "RELEASE SAVEPOINT piece; SAVEPOINT piece; "
	case pieceRefused:
		return "ROLLBACK TO SAVEPOINT piece; "
	}
	return "SAVEPOINT piece; "
}

// writePiece writes rows [lo, hi) carefully, as one piece.
func (w *batchWriter) writePiece(ctx context.Context, tx pgx.Tx, lo, hi int) error {
	err := w.write(ctx, tx, lo, hi)
	switch {
	case err == nil:
		w.piece = pieceWritten
	case IsRowError(err):
		w.piece = pieceRefused
	}
	return err
}

// endPieces rolls back a refused piece, before anything but a piece is
// sent: what is sent then goes into the savepoint, which the next piece
// must release first, not roll back to.
func (w *batchWriter) endPieces(ctx context.Context, tx pgx.Tx) error {
	switch w.piece {
	case pieceNone:
		return nil
	case pieceRefused:
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT piece"); err != nil {
			return err
		}
	}
	w.piece = pieceWritten
	return nil
}

// again writes again, in one COPY, rows [lo, hi) that went in before the
// row refused after them; replay takes over should they be refused now.
func (w *batchWriter) again(ctx context.Context, tx pgx.Tx, lo, hi int) error {
	err := w.writePiece(ctx, tx, lo, hi)
	if err == nil || !IsRowError(err) {
		return err
	}
	w.hint = w.refusal(err)
	return w.replay(ctx, tx, lo, hi)
}

// refusal is a row the database refused, and why: row is an index into
// the batch's rows, -1 when the error named none.
type refusal struct {
	row int
	err error
}

// copyLine is where a COPY's error context names the row it failed on
// (for a binary COPY, "line" counts rows).
var copyLine = regexp.MustCompile(`COPY transactions, line (\d+)`)

// refusal reads which row of the last COPY the database refused.
func (w *batchWriter) refusal(err error) *refusal {
	r := &refusal{row: -1, err: err}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return r
	}
	m := copyLine.FindAllStringSubmatch(pe.Where, -1)
	if len(m) == 0 {
		return r
	}
	if k, _ := strconv.Atoi(m[len(m)-1][1]); k >= 1 && k <= len(w.copied) {
		r.row = w.copied[k-1]
	}
	return r
}

// keepCatalogue inserts the items and mappings of a refused row without
// it, since later rows need them too. Should they be refused themselves,
// the rows that need them are refused with the same error.
func (w *batchWriter) keepCatalogue(ctx context.Context, tx pgx.Tx, r *Row) error {
	if len(r.NewItems) == 0 && len(r.NewMappings) == 0 {
		return nil
	}
	if err := w.endPieces(ctx, tx); err != nil {
		return err
	}
	var created int
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		var err error
		created, err = w.catalogue(ctx, sp, r.NewItems, r.NewMappings)
		return err
	})
	if !IsRowError(err) {
		w.created += created
		return err
	}
	for _, it := range r.NewItems {
		w.failed[it.ID] = err
	}
	return nil
}

// refusedByDatabase says whether the database refused a row of the batch.
func (w *batchWriter) refusedByDatabase() bool {
	for i := range w.refused {
		if !w.held[i] {
			return true
		}
	}
	return false
}

// outcome is what the attempt did, with the batch's progress corrected.
func (w *batchWriter) outcome() Outcome {
	out := Outcome{ItemsCreated: w.created, Progress: w.b.Progress}
	for i, err := range w.refused {
		out.Refused = append(out.Refused, RowError{Index: i, Err: err})
	}
	slices.SortFunc(out.Refused, func(a, b RowError) int { return a.Index - b.Index })
	p := &out.Progress
	p.RowsImported -= int64(len(out.Refused))
	p.RowsRejected += int64(len(out.Refused))
	p.ItemsCreated += int64(w.created)
	chunk := -1
	for _, re := range out.Refused {
		if !w.held[re.Index] && re.Index >= w.chunkEnd(chunk) {
			chunk++
			for re.Index >= w.chunkEnd(chunk) {
				chunk++
			}
			p.ChunksReplayed++
		}
	}
	return out
}

// chunkEnd is where chunk i of the batch ends.
func (w *batchWriter) chunkEnd(i int) int {
	if i < 0 {
		return 0
	}
	if i >= len(w.b.Ends) {
		return len(w.b.Rows)
	}
	return w.b.Ends[i]
}

// rejects are the batch's rejects and the rows refused, in record order.
func (w *batchWriter) rejects() []Reject {
	rs := slices.Clone(w.b.Rejects)
	for i := range rs {
		rs[i].Home = w.rejectHomes[i]
		if why, ok := w.rejectSettled[i]; ok {
			rs[i].Reason, rs[i].Rule, rs[i].Settled = why+" (and "+rs[i].Reason+")", "_record: a rejected record already taken back", true
		}
	}
	for i, err := range w.refused {
		r := &w.b.Rows[i]
		rj := RowReject(r.Record, r.Line, w.b.Raw(i), err)
		rj.Home = w.homes[i]
		_, rj.Settled = w.settled[i]
		rs = append(rs, rj)
	}
	for i := range rs {
		rs[i].Account, rs[i].RunID = w.b.Account, w.b.RunID
	}
	slices.SortFunc(rs, func(a, b Reject) int { return int(a.Record - b.Record) })
	return rs
}

// proposals are the batch's proposals whose item is in the database: an
// item this run created for a row the database then refused is not.
func (w *batchWriter) proposals() []Proposal {
	var ps []Proposal
	for _, p := range w.b.Proposals {
		if p.ItemID == nil || *p.ItemID != 0 {
			ps = append(ps, p)
		}
	}
	return ps
}

// accounts lists the accounts of the batch's rows.
func (w *batchWriter) accounts() []string {
	var as []string
	for i := range w.b.Rows {
		if a := w.b.Rows[i].Account; len(as) == 0 || as[len(as)-1] != a {
			as = append(as, a)
		}
	}
	slices.Sort(as)
	return slices.Compact(as)
}
