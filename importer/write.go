package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// writer is the last stage, on the run's goroutine: it gathers the chunks
// that are ready into a batch, writes the batch through the sink, and
// counts it once the sink says it is committed. A batch stays in memory
// until it is written; a transaction may carry several (see dbSink), and
// should it fail, the run starts again from its checkpoint (rewindError).
type writer struct {
	sink       sink
	src        *source
	layout     invoice.Layout
	run        store.Run      // ID, Account and Owner
	committed  store.Progress // what the database holds for the run
	written    store.Progress // with the batches written but not yet committed
	perBatch   int            // most chunks in a batch
	chunkRows  int            // most rows in a chunk
	maxRejects int64          // 0: no limit
	force      bool           // import rows of invoices other runs own
	progress   Progress
	report     []reportEntry   // of committed chunks
	pending    []pendingReport // of chunks written, not yet committed
	// rules, when set, counts the rejects of each rule (ruleOf) the
	// batches carried, up to maxRules rules: a dry run's commonest reason,
	// where no rejects are stored.
	rules map[string]int64
	// seen says, by account, the latest correction when the catalogue
	// the rows were resolved against was loaded (Batch.Seen).
	seen func() map[string]int64
	// The arrays of the batch being written, reused by the next, and
	// where the chunks' arrays go once copied.
	rows  []store.Row
	raws  []invoice.RawRecord
	spare spare
	// free, when set, says that the sink keeps batches after commit
	// returns: each batch then gets arrays of its own, which come back
	// through free once the sink has written them (Batch.Release).
	free chan rowArrays
}

// maxBatchWait bounds how long a batch waits for more chunks; when a
// whole wait brings none, the sink commits what it holds: a stalled input
// never keeps a transaction, and the locks it holds, open.
const maxBatchWait = time.Second

// write commits the chunks as they come, until the input ends, an error,
// or ctx is done.
func (w *writer) write(ctx context.Context, chunks <-chan *chunk) error {
	defer func() {
		w.sink.abandon(ctx)
		w.sync()
	}()
	for {
		cs, more := w.gather(ctx, chunks)
		// None within a wait: the input is slow, or past --max-rejects with
		// rows the database refused, which gather takes no more after.
		// Commit what the sink holds meanwhile.
		idle := len(cs) == 0 && more && ctx.Err() == nil
		n := len(cs)
		failed := n > 0 && cs[n-1].err != nil
		if err := w.commit(ctx, cs, more && !idle && !failed && ctx.Err() == nil); err != nil {
			return err
		}
		if failed {
			return cs[n-1].err
		}
		if w.maxRejects > 0 && w.committed.RowsRejected > w.maxRejects {
			return w.tooManyRejects()
		}
		if !more || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// tooManyRejects is the error of a run past --max-rejects, as far as it
// committed: once it is said, the groups of other writers in flight still
// commit, and the summary counts them too.
func (w *writer) tooManyRejects() error {
	return fmt.Errorf("%w: %d rejected, more than --max-rejects %d (stopped after line %d)",
		ErrMaxRejects, w.committed.RowsRejected, w.maxRejects, w.committed.Line)
}

// batchBytes ends a batch early when its records are large (chunkBytes):
// the batches a run holds at once then take a few tens of MiB at most.
const batchBytes = 4 << 20

// gather takes the next chunk, and those that follow it within
// maxBatchWait, up to perBatch, batchBytes, or a chunk that ends the
// input. more is false once the producer has stopped.
func (w *writer) gather(ctx context.Context, chunks <-chan *chunk) (cs []*chunk, more bool) {
	timeout := time.NewTimer(maxBatchWait)
	defer timeout.Stop()
	rejected := w.written.RowsRejected
	held := 0
	for len(cs) < w.perBatch && held < batchBytes && (w.maxRejects == 0 || rejected <= w.maxRejects) {
		select {
		case c, ok := <-chunks:
			if !ok {
				return cs, false
			}
			cs = append(cs, c)
			rejected += int64(len(c.rejected))
			held += c.held
			if c.err != nil {
				return cs, true
			}
		case <-timeout.C:
			return cs, true // none: an idle wait
		case <-ctx.Done():
			// A producer blocked reading standard input cannot stop; what
			// it has not handed over is not waited for.
			return cs, true
		}
	}
	return cs, true
}

// commit writes the chunks as one batch, and counts what the sink
// committed. more says that more batches follow at once, so the sink may
// keep its transaction open for them; without more, it commits.
func (w *writer) commit(ctx context.Context, cs []*chunk, more bool) error {
	b := w.batch(cs)
	if b.Progress.RowsRead == w.written.RowsRead {
		if more {
			return nil // no record: only the error that ends the input
		}
		b = nil // nothing new: commit what the sink holds
	} else {
		more = more && (w.maxRejects == 0 || b.Progress.RowsRejected <= w.maxRejects)
	}
	if err := w.src.check(); err != nil {
		return err
	}
	out, err := w.sink.commit(ctx, b, more)
	if err != nil {
		return err
	}
	if b != nil {
		w.written = out.Progress
		for _, c := range cs {
			if len(c.report) > 0 {
				w.pending = append(w.pending, pendingReport{upTo: c.lastSeq, entries: c.report})
			}
		}
	}
	w.sync()
	return nil
}

// maxRules bounds the rules a dry run counts: a rule is the reason less
// the value, but a syntax error's names its line.
const maxRules = 1000

// countRule counts a reject of rule, when rules are counted.
func (w *writer) countRule(rule string) {
	if _, ok := w.rules[rule]; w.rules != nil && (ok || len(w.rules) < maxRules) {
		w.rules[rule]++
	}
}

// commonestRule is the rule most rejects of the batches gave, the first
// in order of those most given, and how many gave it.
func (w *writer) commonestRule() (rule string, n int64) {
	for r, k := range w.rules {
		if k > n || k == n && r < rule {
			rule, n = r, k
		}
	}
	return rule, n
}

// pendingReport are the report entries of a chunk written, not yet
// committed.
type pendingReport struct {
	upTo    int64 // the chunk's last record
	entries []reportEntry
}

// sync takes what the sink says is committed: the progress, and the
// report entries of the chunks it covers.
func (w *writer) sync() {
	p := w.sink.done()
	if p == w.committed {
		return
	}
	w.committed = p
	n := 0
	for n < len(w.pending) && w.pending[n].upTo <= p.Record {
		w.report = append(w.report, w.pending[n].entries...)
		n++
	}
	w.pending = w.pending[n:]
	w.progress.Update(p.Bytes, p.RowsRead, p.RowsRejected)
}

// batch joins the chunks into one batch, with the progress it brings.
func (w *writer) batch(cs []*chunk) *store.Batch {
	b := &store.Batch{RunID: w.run.ID, Account: w.run.Account, Owner: w.run.Owner, From: w.written.Record, Force: w.force}
	if w.seen != nil {
		b.Seen = w.seen()
	}
	p := w.written
	if w.free != nil {
		w.rows, w.raws = w.arrays()
	}
	clear(w.rows)
	clear(w.raws)
	b.Rows, w.raws = w.rows[:0], w.raws[:0]
	raws := w.raws
	for _, c := range cs {
		if c.read == 0 {
			continue
		}
		b.Rows = append(b.Rows, c.rows...)
		raws = append(raws, c.raws...)
		b.Proposals = append(b.Proposals, c.proposals...)
		for _, rj := range c.rejected {
			rule := ruleOf(rj.err)
			b.Rejects = append(b.Rejects, store.Reject{Record: rj.rec.Seq, Line: int64(rj.rec.Line),
				Raw: w.layout.Raw(rj.rec.Raw), Reason: rj.err.Error(), Rule: rule, Origin: store.Origin(rj.rec.Origin)})
			w.countRule(rule)
		}
		p.Record, p.Line, p.Bytes, p.Digest = c.lastSeq, c.last, c.bytes, c.digest
		p.RowsRead += c.read
		p.RowsImported += int64(len(c.rows))
		p.RowsRejected += int64(len(c.rejected))
		p.RowsSkipped += c.skipped
		p.FuzzyMatches += c.fuzzy
		p.Chunks++
		b.Ends = append(b.Ends, len(b.Rows))
		w.spare.giveBack(c) // the batch has the rows
		c.rows, c.raws = nil, nil
	}
	w.rows, w.raws = b.Rows, raws
	b.Raw = func(i int) []byte { return w.layout.Raw(raws[i]) }
	if free := w.free; free != nil {
		rows := b.Rows
		b.Release = func() {
			select {
			case free <- rowArrays{rows: rows, raws: raws}:
			default:
			}
		}
	}
	b.Progress = p
	return b
}

// arrays returns arrays for a batch the sink keeps: given back, else new.
func (w *writer) arrays() ([]store.Row, []invoice.RawRecord) {
	select {
	case a := <-w.free:
		clear(a.rows[:cap(a.rows)])
		clear(a.raws[:cap(a.raws)])
		return a.rows[:0], a.raws[:0]
	default:
		n := w.perBatch * w.chunkRows
		return make([]store.Row, 0, n), make([]invoice.RawRecord, 0, n)
	}
}

// ruleOf is what rejects for the same reason have in common: the reason
// less the offending value, or less where in the input it is
// (invoice.SyntaxError.Rule).
func ruleOf(err error) string {
	var re *reviewError
	if errors.As(err, &re) {
		return "needs review"
	}
	var fe *invoice.FieldError
	if errors.As(err, &fe) {
		return fe.Field + ": " + fe.Rule
	}
	var se *invoice.SyntaxError
	if errors.As(err, &se) {
		return se.RuleOf()
	}
	return err.Error()
}
