package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// sink is where the writer commits a batch: the one place where the kind of
// run shows. It is chosen once, when the run starts.
type sink interface {
	// commit writes a batch, and returns the progress written, which the
	// next batch builds on. When more batches follow (more), the sink may
	// keep them in an open transaction; without more, it commits
	// everything written before it returns. A nil batch only commits what
	// the sink holds.
	commit(ctx context.Context, b *store.Batch, more bool) (store.Outcome, error)
	// done is the run's progress as committed.
	done() store.Progress
	// abandon rolls back what is written and not committed.
	abandon(ctx context.Context)
}

var (
	_ sink = (*dbSink)(nil)
	_ sink = (*rollbackSink)(nil)
	_ sink = (*dryRunSink)(nil)
	_ sink = (*parallelSink)(nil)
)

// chooseSink gives the writer its sink, and says how the producer loads
// catalogues (nil: no resolving); stop ends what the sink started.
func (r *runner) chooseSink(ctx context.Context, w *writer, out *outFile, layout invoice.Layout) (load loader, stop func(), err error) {
	stop = func() {}
	switch {
	case r.db == nil:
		w.sink = &dryRunSink{rejects: r.rejectsTo(out, layout)}
		return nil, stop, nil
	case r.opts.DryRun == Rollback:
		w.sink = &rollbackSink{db: r.db, mu: &r.mu}
		return r.loadShared, stop, nil
	case r.opts.DryRun != Write:
		w.sink = &dryRunSink{rejects: r.rejectsTo(out, layout), db: r.db, mu: &r.mu, account: r.opts.Account, homes: [2]int64{r.run.ID, r.supersede}, count: w.countRule,
			earlier: cmp.Or(r.opts.Earlier, NewEarlier()), shared: r.opts.Earlier != nil, source: r.src.in.Name}
		return r.loadShared, stop, nil
	}
	s := &dbSink{db: r.db, key: r.key, run: r.run, policy: r.opts.Retry, log: r.opts.Log, committed: r.run.Progress}
	w.sink = s
	if r.src.f == nil {
		return r.loadFresh, stop, nil // standard input cannot be read again: a transaction per batch
	}
	s.groupChunks = r.opts.ChunksPerCommit
	if r.opts.parallel() {
		ps, err := newParallelSink(ctx, s, r.opts.Writers, r.opts.ChunkSize)
		if err != nil {
			return nil, stop, err
		}
		w.sink, w.free = ps, make(chan rowArrays, ps.batches())
		stop = func() { ps.close(ctx) }
	}
	return r.loadFresh, stop, nil
}

// dbSink is an import, on the run's connection. Batches that follow one
// another at once go in one transaction (a store.Group) of up to
// groupChunks chunks or maxGroupTime: the server writes that far faster
// than a transaction per batch; a row the database refuses costs its batch
// a replay inside the group (store.Group.Write). Should a group fail (a
// stock that overflows at its commit), the run goes back to its checkpoint
// and reads its input again from there (*rewindError); through the batch
// that failed, and a stretch after it (refused), each batch then has a
// transaction of its own, which applies its stock at once, so that the
// row that overflows is set apart and the rest commits. Standard
// input cannot be read again, so there every batch has its own
// transaction. A transient failure is retried with backoff on a new
// connection, once the source's lock is retaken and the run is found still
// ours; a transaction whose COMMIT reply was lost is found committed and
// not written again.
type dbSink struct {
	db          *store.Store
	key         string    // the source key, whose lock is retaken
	run         store.Run // ID and Owner
	policy      RetryPolicy
	log         *slog.Logger
	groupChunks int      // most chunks in a group; below 2, no groups
	alone       int64    // the batches through this record have a transaction each
	span        int64    // records past a refused row that also go alone; doubles while groups keep failing
	from        int64    // where the open group began (its first batch's From)
	retry       *retrier // the attempts since the last commit, across rewinds
	group       *store.Group
	began       time.Time      // when the group began
	chunks      int            // in the group
	last        store.Progress // where the group brings the run
	committed   store.Progress
}

// maxGroupTime bounds how long a group stays open: what a crash can lose,
// and how long others wait for the locks it holds.
const maxGroupTime = 5 * time.Second

func (s *dbSink) commit(ctx context.Context, b *store.Batch, more bool) (store.Outcome, error) {
	// The batch in flight is finished even when ctx is cancelled by a
	// signal: its statements run on a context that is never cancelled, and
	// only the waits between attempts listen to ctx.
	dbctx := context.WithoutCancel(ctx)
	switch {
	case b == nil && s.group == nil:
		return store.Outcome{}, nil
	case b == nil:
		p, err := s.commitGroup(ctx)
		return store.Outcome{Progress: p}, err
	case s.group == nil && (s.groupChunks < 2 || !more || b.Progress.Record <= s.alone):
		out, err := s.commitAlone(ctx, b)
		if err == nil {
			s.retry, s.committed = nil, out.Progress
		}
		return out, err
	case s.group == nil:
		g, err := s.db.BeginGroup(dbctx, b)
		if err != nil {
			return store.Outcome{}, s.rewind(ctx, b, err)
		}
		s.group, s.began, s.chunks, s.from = g, time.Now(), 0, b.From
	}
	out, err := s.group.Write(dbctx, b)
	if err != nil {
		s.abandon(ctx)
		return out, s.rewind(ctx, b, err)
	}
	s.chunks += len(b.Ends)
	s.last = out.Progress
	if more && s.chunks < s.groupChunks && time.Since(s.began) < maxGroupTime {
		return out, nil
	}
	out.Progress, err = s.commitGroup(ctx)
	return out, err
}

func (s *dbSink) done() store.Progress { return s.committed }

// commitGroup commits the open group, and returns the run's progress.
func (s *dbSink) commitGroup(ctx context.Context) (store.Progress, error) {
	g, p := s.group, s.last
	s.group = nil
	err := g.Commit(context.WithoutCancel(ctx), p)
	if err == nil {
		s.span, s.retry, s.committed = 0, nil, p
		return p, nil
	}
	if store.IsRowError(err) {
		// Only the stock can fail here: the rows went in. Which row
		// overflowed an item is found a batch at a time.
		s.refused(p.Record)
	}
	err = s.rewind(ctx, nil, err)
	var rw *rewindError
	if errors.As(err, &rw) && rw.to.Record >= p.Record {
		s.log.Info("the transaction had committed before the connection was lost", "through_line", p.Line)
		s.committed = rw.to
		return rw.to, nil
	}
	return p, err
}

// refused notes that the group failed on a row in its records through
// end: each batch through it, and as many records again as the group
// held, doubling while groups keep failing, gets a transaction of its
// own. A file with such rows everywhere is then read again a few times,
// not once per group.
func (s *dbSink) refused(end int64) {
	s.span = max(2*s.span, end-s.from)
	s.alone = end + s.span
}

// abandon rolls back the open group, if any.
func (s *dbSink) abandon(ctx context.Context) {
	if s.group != nil {
		s.group.Rollback(context.WithoutCancel(ctx))
		s.group = nil
	}
}

// rewind turns the failure of a group into where the run stands, at the
// checkpoint it is to be written again from (*rewindError), or into the
// error that ends the run. b is the batch that failed, if a batch did.
func (s *dbSink) rewind(ctx context.Context, b *store.Batch, err error) error {
	if store.IsRowError(err) {
		if b != nil {
			s.refused(b.Progress.Record)
		}
		s.log.Info("the database refused a row: the run goes back to its checkpoint, and each batch through the one that failed, and as many after it, gets a transaction of its own",
			"through_record", s.alone, "sqlstate", store.SQLState(err), "error", err)
		run, err := s.db.GetRun(context.WithoutCancel(ctx), s.run.ID)
		if err != nil {
			return s.rewind(ctx, b, err)
		}
		s.committed = run.Progress
		return &rewindError{to: run.Progress}
	}
	if !store.IsTransient(err) {
		return err
	}
	// The attempts are counted across rewinds, until a transaction
	// commits: a failure that comes back with every replay ends the run.
	if s.retry == nil {
		s.retry = &retrier{policy: s.policy, log: s.log}
	}
	run, err := s.recover(ctx, s.retry, err)
	if err != nil {
		return err
	}
	s.committed = run.Progress
	return &rewindError{to: run.Progress}
}

// commitAlone writes a batch in a transaction of its own, retrying after
// transient failures.
func (s *dbSink) commitAlone(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	dbctx := context.WithoutCancel(ctx)
	r := retrier{policy: s.policy, log: s.log}
	for {
		out, err := s.db.WriteBatch(dbctx, b)
		if err == nil || !store.IsTransient(err) {
			return out, err
		}
		run, err := s.recover(ctx, &r, err, "through_line", b.Progress.Line)
		if err != nil {
			return out, err
		}
		if run.Progress.Record >= b.Progress.Record {
			// The lost attempt did commit; the database has its counts.
			s.log.Info("the transaction had committed before the connection was lost", "through_line", b.Progress.Line)
			return store.Outcome{Progress: run.Progress}, nil
		}
	}
}

// rollbackSink is dryrun --rollback: every batch in one outer transaction,
// rolled back at the end. The connection is shared with the catalogue
// loads, hence the lock; nothing can be retried.
type rollbackSink struct {
	db      *store.Store
	mu      *sync.Mutex
	written store.Progress
}

func (s *rollbackSink) commit(ctx context.Context, b *store.Batch, _ bool) (store.Outcome, error) {
	if b == nil {
		return store.Outcome{Progress: s.written}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.db.WriteBatch(context.WithoutCancel(ctx), b)
	if err == nil {
		s.written = out.Progress
	}
	return out, err
}

func (s *rollbackSink) done() store.Progress { return s.written }

func (s *rollbackSink) abandon(context.Context) {}

// dryRunSink writes nothing: dryrun, and dryrun --offline. Every row would
// be imported, but for those an import refuses before writing them
// (duplicates), which a read-only dry run asks the database for, and every
// new item a row imported uses created; the rejects go to the rejects file
// only when one was asked for.
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
	s.mu.Lock()
	owners, sources, err := s.db.InvoiceOwners(ctx, keys)
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
	for i := range b.Rows {
		r := &b.Rows[i]
		home := s.homes[0]
		if o := r.Origin; o.Run > 0 {
			switch {
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
			continue // its run's, or its home run's
		}
		// Claimed by an input before, for that input's run or a fixed
		// record's home run: the row's own only when it is the same.
		k := invoiceKey{r.Account, strings.ToLower(r.Vendor), r.InvoiceNumber}
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
		}
	}
	for _, rj := range b.Rejects {
		if o := rj.Origin; o.Run > 0 && why[o] == "" && s.earlier.taken[o] == "" {
			s.earlier.taken[o] = s.source
		}
	}
	return refused, nil
}
