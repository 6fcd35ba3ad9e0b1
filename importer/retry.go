package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgerrcode"

	"github.com/batchimport/batchimport/store"
)

// recover waits after a transient failure, then reconnects, retakes the
// source's lock and reads the run back, until that works, the attempts
// are used up, or the run is found taken over (*store.FencedError) or
// the lock held by another process.
func (s *dbSink) recover(ctx context.Context, r *retrier, err error, attrs ...any) (store.Run, error) {
	dbctx := context.WithoutCancel(ctx)
	for {
		if err := r.wait(ctx, err, attrs...); err != nil {
			return store.Run{}, err
		}
		// The run's connection holds the locks: only a lost one is made
		// new (with several writers, the failure may have been another's).
		if !s.db.Alive(dbctx) {
			if err = s.db.Reconnect(dbctx); err != nil {
				continue
			}
			if err = lockSource(dbctx, s.db, s.key); err != nil {
				if store.IsTransient(err) {
					continue
				}
				return store.Run{}, err // another process holds the source now
			}
			if err = s.db.LockAccountShared(dbctx, s.run.Account); err != nil {
				continue
			}
		}
		var run store.Run
		run, err = s.db.GetRun(dbctx, s.run.ID)
		switch {
		case store.IsTransient(err):
			continue
		case err != nil:
			return run, err
		case run.Owner != s.run.Owner:
			return run, &store.FencedError{RunID: run.ID, Owner: run.Owner}
		}
		return run, nil
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
		return fmt.Errorf("giving up after %d retries over %s: %w", r.attempt-1, time.Since(r.started).Round(time.Second), err)
	}
	msg := "database connection failed; retrying"
	if c := store.SQLState(err); c == pgerrcode.DeadlockDetected || c == pgerrcode.SerializationFailure {
		msg = "the database rolled the transaction back (a deadlock or a serialization failure, with another session); retrying"
	}
	r.log.Warn(msg, append(attrs, "attempt", r.attempt, "backoff", r.backoff, "error", err)...)
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
