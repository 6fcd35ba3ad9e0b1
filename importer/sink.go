package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/batchimport/batchimport/store"
)

// sink is where the writer commits a batch: the one place where the kind of
// run shows. It is chosen once, when the run starts.
type sink interface {
	commit(ctx context.Context, b *store.Batch) (store.Outcome, error)
}

var (
	_ sink = (*dbSink)(nil)
	_ sink = (*rollbackSink)(nil)
	_ sink = (*dryRunSink)(nil)
)

// dbSink is an import: a transaction per batch on the run's connection. A
// transient failure is retried with backoff on a new connection, once the
// source's lock is retaken and the run is found still ours; a batch whose
// COMMIT reply was lost is found committed and not written again.
type dbSink struct {
	db     *store.Store
	key    string // the source key, whose lock is retaken
	policy RetryPolicy
	log    *slog.Logger
}

func (s *dbSink) commit(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	// The batch in flight is finished even when ctx is cancelled by a
	// signal: its statements run on a context that is never cancelled, and
	// only the waits between attempts listen to ctx.
	dbctx := context.WithoutCancel(ctx)
	r := retrier{policy: s.policy, log: s.log}
	for {
		out, err := s.db.WriteBatch(dbctx, b)
		if err == nil || !store.IsTransient(err) {
			return out, err
		}
		if err := r.wait(ctx, err, "through_line", b.Progress.Line); err != nil {
			return out, err
		}
		if err := s.db.Reconnect(dbctx); err != nil {
			continue
		}
		if err := lockSource(dbctx, s.db, s.key); err != nil {
			if store.IsTransient(err) {
				continue
			}
			return out, err // another process holds the source now
		}
		run, err := s.db.GetRun(dbctx, b.RunID)
		switch {
		case store.IsTransient(err):
			continue
		case err != nil:
			return out, err
		case run.Owner != b.Owner:
			return out, &store.FencedError{RunID: run.ID, Owner: run.Owner}
		case run.Progress.Record >= b.Progress.Record:
			// The lost attempt did commit; the database has its counts.
			s.log.Info("the batch had committed before the connection was lost", "through_line", b.Progress.Line)
			return store.Outcome{Progress: run.Progress}, nil
		}
	}
}

// retrier paces the attempts after transient failures: exponential
// backoff, bounded in attempts and in time.
type retrier struct {
	policy  RetryPolicy
	log     *slog.Logger
	attempt int
	started time.Time
	backoff time.Duration
}

// wait sleeps before the next attempt after err, or returns the error that
// ends the run when the attempts or the time are used up, or ctx is done.
func (r *retrier) wait(ctx context.Context, err error, attrs ...any) error {
	if r.attempt == 0 {
		r.started, r.backoff = time.Now(), r.policy.Base
	}
	r.attempt++
	if r.attempt > r.policy.Attempts || time.Since(r.started) > r.policy.MaxElapsed {
		return fmt.Errorf("giving up after %d attempts over %s: %w", r.attempt, time.Since(r.started).Round(time.Second), err)
	}
	r.log.Warn("database connection failed; retrying", append(attrs, "attempt", r.attempt, "backoff", r.backoff, "error", err)...)
	select {
	case <-time.After(r.backoff):
	case <-ctx.Done():
		return ctx.Err()
	}
	r.backoff = min(2*r.backoff, r.policy.Max)
	return nil
}

// lockWait is how long a held source lock is waited for: long enough for the
// server to notice a holder that was just killed (or this process's own
// connection, just lost), short enough to be "at once" for a holder that is
// alive.
const lockWait = 1500 * time.Millisecond

// lockSource takes the source's lock, or fails with *store.LockedError.
func lockSource(ctx context.Context, db *store.Store, key string) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := db.LockSource(ctx, key)
		var locked *store.LockedError
		if !errors.As(err, &locked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// rollbackSink is dryrun --rollback: every batch in one outer transaction,
// rolled back at the end. The connection is shared with the catalogue
// loads, hence the lock; nothing can be retried.
type rollbackSink struct {
	db *store.Store
	mu *sync.Mutex
}

func (s *rollbackSink) commit(ctx context.Context, b *store.Batch) (store.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.WriteBatch(context.WithoutCancel(ctx), b)
}

// dryRunSink writes nothing: dryrun, and dryrun --offline. Every row would
// be imported and every new item created; the rejects go to the rejects
// file only when one was asked for.
type dryRunSink struct {
	rejects *rejectsWriter // nil: none
}

func (s *dryRunSink) commit(_ context.Context, b *store.Batch) (store.Outcome, error) {
	out := store.Outcome{Progress: b.Progress}
	for i := range b.Rows {
		out.ItemsCreated += len(b.Rows[i].NewItems)
	}
	out.Progress.ItemsCreated += int64(out.ItemsCreated)
	if s.rejects != nil {
		for _, rj := range b.Rejects {
			if err := s.rejects.write(rj); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
