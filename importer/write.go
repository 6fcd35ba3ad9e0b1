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
	started := time.Now()
	backoff := w.opts.Retry.Base
	for attempt := 0; ; attempt++ {
		err := w.try(dbctx, c, replay)
		switch {
		case err == nil:
			return nil
		case !replay && store.IsDataError(err):
			w.opts.Log.Info("chunk refused by the database; replaying it row by row",
				"through_line", c.last, "sqlstate", store.SQLState(err), "error", err)
			replay = true
			attempt--
			continue
		case errors.Is(err, store.ErrCheckpointMoved):
			return w.recover(dbctx, c, err)
		case !store.IsTransient(err) || w.opts.DryRun != Write:
			// A dry run's single transaction cannot be retried.
			return err
		}
		if attempt >= w.opts.Retry.Attempts || time.Since(started) > w.opts.Retry.MaxElapsed {
			return fmt.Errorf("giving up after %d attempts over %s: %w", attempt+1, time.Since(started).Round(time.Second), err)
		}
		w.opts.Log.Warn("database connection failed; retrying the chunk", "through_line", c.last,
			"attempt", attempt+1, "backoff", backoff, "error", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, w.opts.Retry.Max)
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

// try makes one attempt at the chunk's transaction.
func (w *writer) try(ctx context.Context, c *chunk, replay bool) error {
	sc := &store.Chunk{RunID: w.run.ID, From: w.committed.Record, Items: c.items, Mappings: c.mappings, Rows: c.rows, Ends: c.ends}
	var next store.Progress
	before := func(out store.Outcome) (store.Progress, error) {
		rejects := slices.Clone(c.rejects)
		for _, re := range out.Rejected {
			rejects = append(rejects, reject{rec: c.recs[re.Index], reason: dbReason(re.Err)})
		}
		slices.SortFunc(rejects, func(a, b reject) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
		size, err := w.rejects.write(w.committed.RejectsBytes, rejects)
		if err != nil {
			return store.Progress{}, err
		}
		next = w.committed
		next.Line, next.Record = c.last, c.lastSeq
		next.RowsRead += c.read
		next.RowsImported += int64(len(c.rows) - len(out.Rejected))
		next.RowsRejected += int64(len(rejects))
		next.ItemsCreated += int64(out.ItemsCreated)
		next.FuzzyMatches += c.fuzzy
		next.Chunks += int64(max(len(c.ends), 1))
		next.ChunksReplayed += int64(out.Replayed)
		next.RejectsBytes = size
		return next, nil
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
