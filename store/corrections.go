package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
)

// Correction is one change an operator makes to what imports wrote: one
// transaction, audited, under the account's lock.
type Correction struct {
	// Accounts are those the correction changes, the first its own; it
	// holds each one's lock and is recorded in each one's audit.
	Accounts []string
	Command  string        // as typed, e.g. "items merge"
	Args     []string      // the command's arguments, for the audit
	DryRun   bool          // do it all, report it, and roll it back
	Wait     time.Duration // how long to wait for imports of the account; 0: refuse at once
}

// BusyError says a correction was refused because imports of its account
// hold the account's lock: they resolve against the catalogue they loaded,
// which must not change under them.
type BusyError struct {
	Account string
	Runs    []int64 // the account's runs still running
	Waited  time.Duration
}

func (e *BusyError) Error() string {
	waited := "at once"
	if e.Waited > 0 {
		waited = "after waiting " + e.Waited.String()
	}
	return fmt.Sprintf("an import of account %q is running (runs %v); a correction would change the catalogue it resolves against: refused %s; try again when it ends, or give --wait",
		e.Account, e.Runs, waited)
}

// StaleCatalogueError says an import's commit was refused because its
// account was corrected since the import loaded its catalogue.
type StaleCatalogueError struct {
	Account    string
	Correction int64
	Command    string
}

func (e *StaleCatalogueError) Error() string {
	return fmt.Sprintf("account %q was corrected while this import ran (correction %d, %s): what it resolved since is not written; import again to go on from the checkpoint with the corrected catalogue",
		e.Account, e.Correction, e.Command)
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// Correct runs fn in one transaction that holds the account's lock
// exclusively, and records what fn says it changed in corrections, with
// the command and the database user. A dry run records nothing and rolls it
// all back. It returns the correction's id (0 for a dry run) and fn's
// details.
func (s *Store) Correct(ctx context.Context, c Correction, fn func(tx pgx.Tx) (details any, err error)) (id int64, err error) {
	if s.conn == nil {
		return 0, errNotConnected
	}
	accounts := slices.Clone(c.Accounts)
	slices.Sort(accounts)
	err = pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		for _, a := range slices.Compact(accounts) {
			if err := s.lockAccount(ctx, tx, a, c.Wait); err != nil {
				return err
			}
		}
		details, err := fn(tx)
		if err != nil {
			return err
		}
		if c.DryRun {
			return errDryRun // nothing to record: it never happened
		}
		body, err := json.Marshal(map[string]any{"args": c.Args, "changed": details})
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO corrections (account, command, details)
			SELECT a, $2, $3 FROM unnest($1::text[]) WITH ORDINALITY AS u(a, n) ORDER BY n RETURNING id`,
			slices.Compact(slices.Clone(c.Accounts)), c.Command, body).Scan(&id)
		if err != nil {
			return err
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return 0, nil
	}
	return id, s.lost(err)
}

// accountLock is the advisory lock of an account: imports hold it shared
// for as long as they run, a correction exclusively for its transaction.
const accountLock = `hashtext('batchimport account ' || $1), hashtext($2)`

// endingSessionWait is how long a correction without --wait waits for an
// account lock that no running run holds.
const endingSessionWait = 2 * time.Second

func (s *Store) lockAccount(ctx context.Context, tx pgx.Tx, account string, wait time.Duration) error {
	busy := &BusyError{Account: account, Waited: wait}
	if wait <= 0 {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+accountLock+`)`, s.schema, account).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		if err := s.busy(ctx, tx, busy); len(busy.Runs) > 0 || !errors.As(err, &busy) {
			return err
		}
		// No run of the account is running: the holder is a session that
		// is ending (an import that has just exited, whose server process
		// has not yet let go) or an import about to record its run. Either
		// is a moment's wait, not a reason to refuse.
		wait = endingSessionWait
		busy.Waited = wait
	}
	// SET LOCAL takes no parameters; the duration is a whole number. In a
	// savepoint, so that a timeout leaves the transaction able to say why.
	err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		if _, err := sp.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, wait.Milliseconds())); err != nil {
			return err
		}
		_, err := sp.Exec(ctx, `SELECT pg_advisory_xact_lock(`+accountLock+`)`, s.schema, account)
		return err
	})
	if SQLState(err) == pgerrcode.LockNotAvailable {
		return s.busy(ctx, tx, busy)
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `SET LOCAL lock_timeout = 0`)
	return err
}

func (s *Store) busy(ctx context.Context, tx pgx.Tx, e *BusyError) error {
	rows, err := tx.Query(ctx, `SELECT id FROM runs WHERE status = 'running' AND $1 = ANY(array_append(accounts, account)) ORDER BY id`, e.Account)
	if err != nil {
		return err
	}
	e.Runs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	return e
}

// LockAccountShared takes an account's lock, shared, for as long as the
// connection lasts: an import holds it while it resolves the account's
// lines, so that corrections wait or are refused meanwhile.
func (s *Store) LockAccountShared(ctx context.Context, account string) error {
	if s.conn == nil {
		return errNotConnected
	}
	_, err := s.q().Exec(ctx, `SELECT pg_advisory_lock_shared(`+accountLock+`)`, s.schema, account)
	return s.lost(err)
}

// lastCorrection is the id of an account's latest correction, 0 for none.
func (s *Store) lastCorrection(ctx context.Context, account string) (int64, error) {
	var id int64
	err := s.q().QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM corrections WHERE account = $1`, account).Scan(&id)
	return id, s.lost(err)
}

// lockSeen takes, shared and until the transaction ends, the locks of the
// accounts a batch was resolved against, before the batch writes a row: a
// correction of one of them, which takes its lock and then locks items,
// waits for the commit instead of deadlocking with it.
func (s *Store) lockSeen(ctx context.Context, tx pgx.Tx, seen map[string]int64) error {
	if len(seen) == 0 {
		return nil
	}
	accounts := slices.Sorted(maps.Keys(seen))
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(hashtext('batchimport account ' || $1), hashtext(a))
		FROM unnest($2::text[]) AS a ORDER BY a`, s.schema, accounts)
	return err
}

// fresh refuses a commit (*StaleCatalogueError) when an account whose
// catalogue the batch was resolved against was corrected since it was
// loaded: seen maps each account to the latest correction then. The
// accounts' locks, taken before the batch wrote (lockSeen), keep any
// correction from committing between this check and the commit.
func (s *Store) fresh(ctx context.Context, tx pgx.Tx, seen map[string]int64) error {
	if len(seen) == 0 {
		return nil
	}
	accounts, ids := make([]string, 0, len(seen)), make([]int64, 0, len(seen))
	for a, id := range seen {
		accounts, ids = append(accounts, a), append(ids, id)
	}
	e := &StaleCatalogueError{}
	err := tx.QueryRow(ctx, `SELECT c.account, c.id, c.command FROM corrections c
		JOIN unnest($1::text[], $2::bigint[]) AS u(account, seen) ON c.account = u.account AND c.id > u.seen
		ORDER BY c.id LIMIT 1`, accounts, ids).Scan(&e.Account, &e.Correction, &e.Command)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return e
}
