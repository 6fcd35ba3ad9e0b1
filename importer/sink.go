package importer

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
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
		// A resumed run's counts are what it did before too, as the
		// import's are (written).
		w.sink = &dryRunSink{rejects: r.rejectsTo(out, layout), written: r.run.Progress, db: r.db, mu: &r.mu, account: r.opts.Account, homes: [2]int64{r.run.ID, r.supersede}, count: w.countRule,
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
		if ps != nil {
			w.sink, w.free = ps, make(chan rowArrays, ps.batches())
			stop = func() { ps.close(ctx) }
		}
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
