package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/batchimport/batchimport/store"
)

// writer commits chunks, in order, on the run's connection.
type writer struct {
	opts      *Options
	db        *store.Store
	run       store.Run
	committed store.Progress // what the database holds for the run
	rejects   *rejectsFile
	report    *mappingReport
}

// commit writes one chunk, replaying it row by row if the database refuses
// its data, and retrying on a new connection after a transient failure. It
// returns only once the chunk is committed, or with the error that ends the
// run.
func (w *writer) commit(ctx context.Context, c *chunk) error {
	// The chunk in flight is finished even when ctx is cancelled by a
	// signal: its statements run on a context that is never cancelled, and
	// only the waits between retries listen to ctx.
	dbctx := context.WithoutCancel(ctx)
	replay := false
	retry := &retrier{policy: w.opts.Retry}
	for {
		err := w.try(dbctx, c, replay)
		switch {
		case err == nil:
			return nil
		case !replay && store.IsDataError(err):
			w.opts.Log.Info("chunk refused by the database; replaying it row by row",
				"through_line", c.last, "sqlstate", store.SQLState(err), "error", err)
			replay = true
			continue
		case errors.Is(err, store.ErrCheckpointMoved):
			return w.recover(dbctx, c, err)
		case !store.IsTransient(err) || w.opts.DryRun != Write:
			// A dry run's single transaction cannot be retried.
			return err
		}
		if err := retry.wait(ctx, w.opts, err, "retrying the chunk", "through_line", c.last); err != nil {
			return err
		}
		if err := w.reconnect(dbctx); err != nil {
			w.opts.Log.Warn("reconnect failed", "error", err)
			continue
		}
		// The lost attempt may have committed before the connection died.
		if done, err := w.alreadyCommitted(dbctx, c); err != nil || done {
			if err == nil {
				return nil
			}
			if !store.IsTransient(err) {
				return err
			}
		}
	}
}

// retrier paces the attempts after transient failures: exponential
// backoff, bounded in attempts and in time.
type retrier struct {
	policy  RetryPolicy
	attempt int
	started time.Time
	backoff time.Duration
}

// wait sleeps before the next attempt after err, or returns the error that
// ends the run when the attempts or the time are used up, or ctx is done.
func (r *retrier) wait(ctx context.Context, opts *Options, err error, what string, attrs ...any) error {
	if r.attempt == 0 {
		r.started, r.backoff = time.Now(), r.policy.Base
	}
	r.attempt++
	if r.attempt > r.policy.Attempts || time.Since(r.started) > r.policy.MaxElapsed {
		return fmt.Errorf("giving up after %d attempts over %s: %w", r.attempt, time.Since(r.started).Round(time.Second), err)
	}
	opts.Log.Warn("database connection failed; "+what,
		append(attrs, "attempt", r.attempt, "backoff", r.backoff, "error", err)...)
	select {
	case <-time.After(r.backoff):
	case <-ctx.Done():
		return ctx.Err()
	}
	r.backoff = min(2*r.backoff, r.policy.Max)
	return nil
}

// reset starts counting afresh, after progress.
func (r *retrier) reset() { r.attempt = 0 }

// try makes one attempt at the chunk's transaction.
func (w *writer) try(ctx context.Context, c *chunk, replay bool) error {
	sc := &store.Chunk{RunID: w.run.ID, From: w.committed.Record, Items: c.items, Mappings: c.mappings, Rows: c.rows, Ends: c.ends}
	var next store.Progress
	before := func(out store.Outcome) (store.Progress, error) {
		var err error
		next, err = w.record(w.committed, c, out)
		return next, err
	}
	var err error
	switch {
	case w.db == nil || w.opts.DryRun == ReadOnly:
		// Nothing is written: the chunk's items would all be created.
		_, err = before(store.Outcome{ItemsCreated: len(c.items)})
	case replay:
		_, err = w.db.ReplayChunk(ctx, sc, before)
	default:
		_, err = w.db.WriteChunk(ctx, sc, before)
	}
	if err != nil {
		return err
	}
	w.committed = next
	return nil
}

// record appends a written chunk's rejects (its invalid records and the
// rows the database refused) to the rejects file after what p counts, and
// returns p with the chunk counted.
func (w *writer) record(p store.Progress, c *chunk, out store.Outcome) (store.Progress, error) {
	rejects := slices.Clone(c.rejects)
	for _, re := range out.Rejected {
		rejects = append(rejects, reject{rec: c.recs[re.Index], reason: dbReason(re.Err)})
	}
	slices.SortFunc(rejects, func(a, b reject) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
	size, err := w.rejects.write(p.RejectsBytes, rejects)
	if err != nil {
		return p, err
	}
	p.Line, p.Record = c.last, c.lastSeq
	p.RowsRead += c.read
	p.RowsImported += int64(len(c.rows) - len(out.Rejected))
	p.RowsRejected += int64(len(rejects))
	p.ItemsCreated += int64(out.ItemsCreated)
	p.FuzzyMatches += c.fuzzy
	p.Chunks += int64(max(len(c.ends), 1))
	p.ChunksReplayed += int64(out.Replayed)
	p.RejectsBytes = size
	return p, nil
}

// dbReason is the _error of a row the database refused.
func dbReason(err error) string {
	if code := store.SQLState(err); code != "" {
		return "database refused the row: SQLSTATE " + code + ": " + store.Message(err)
	}
	return "database refused the row: " + err.Error()
}

// reconnect opens a new connection and takes the source's lock again.
func (w *writer) reconnect(ctx context.Context) error {
	if err := w.db.Reconnect(ctx); err != nil {
		return err
	}
	return w.db.LockSource(ctx, w.run.SourceKey)
}

// alreadyCommitted reads the run back after a lost connection: when its
// checkpoint already covers the chunk, the lost attempt did commit, and the
// run's counters and rejects file are taken from the database.
func (w *writer) alreadyCommitted(ctx context.Context, c *chunk) (bool, error) {
	r, err := w.db.GetRun(ctx, w.run.ID)
	if err != nil {
		return false, err
	}
	if r.Progress.Record < c.lastSeq {
		return false, nil
	}
	w.committed = r.Progress
	_, err = w.rejects.write(r.Progress.RejectsBytes, nil)
	return true, err
}

// recover handles a checkpoint that moved: fine when it was this chunk's own
// lost commit, an error when someone else wrote to the run.
func (w *writer) recover(ctx context.Context, c *chunk, cause error) error {
	done, err := w.alreadyCommitted(ctx, c)
	if err != nil {
		return err
	}
	if done {
		return nil
	}
	return fmt.Errorf("run %d: %w (expected record %d); is another batchimport writing to it?", w.run.ID, cause, w.committed.Record)
}
