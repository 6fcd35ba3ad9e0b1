package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Reverted is what reverting a run undid.
type Reverted struct {
	RunID           int64  `json:"run_id"`
	Source          string `json:"source"`
	WasStatus       Status `json:"was_status"`
	Already         bool   `json:"already_reverted"` // nothing to do
	Transactions    int64  `json:"transactions_removed"`
	ItemsRestocked  int64  `json:"items_restocked"`
	ItemsRemoved    int64  `json:"items_removed"`
	MappingsRemoved int64  `json:"mappings_removed"`
	InvoicesFreed   int64  `json:"invoices_freed"`
	RejectsReopened int64  `json:"rejects_reopened"` // fixed records it took back, rejects again
	// CatalogueKept says that the items and mappings the run created were
	// kept: another import of its accounts was running, which may use them.
	CatalogueKept bool `json:"catalogue_kept,omitempty"`
}

// LineKeys are how a line's vendor and description are keyed, as the
// mappings resolving stores are (mapping.NormalizeVendor and
// mapping.DescriptionKey): a revert keeps the mappings other runs' lines
// resolved through.
type LineKeys struct {
	Vendor      func(vendor string) string
	Description func(description string) string
}

// RevertRun undoes a run in one transaction, if owner still holds it (else
// *FencedError): an import whose run may not stay (--max-rejects).
func (s *Store) RevertRun(ctx context.Context, id int64, owner, why string, keys LineKeys) (Reverted, error) {
	if s.conn == nil {
		return Reverted{}, errNotConnected
	}
	var out Reverted
	return out, s.lost(pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		// A run resumed after a crash may have rejects that came home
		// meanwhile: reverted, it would leave those records imported by
		// a run of another source and give back nothing of theirs.
		accounts, err := s.runAccounts(ctx, id)
		if err != nil {
			return err
		}
		if err := cameHome(ctx, tx, accounts, id, "so it is not reverted: revert %[2]s first, then run %[1]d"); err != nil {
			return err
		}
		out, err = s.revert(ctx, tx, id, owner, why, keys)
		return err
	}))
}

// Revert is `batchimport revert`: it undoes a run that no process is
// importing (else *LockedError), as a correction of its accounts. A run
// already reverted is left as it is (Reverted.Already).
func (s *Store) Revert(ctx context.Context, id int64, c Correction, keys LineKeys) (Reverted, int64, error) {
	run, err := s.GetRun(ctx, id)
	if err != nil {
		return Reverted{}, 0, err
	}
	out := Reverted{RunID: id, Source: run.SourceName, WasStatus: run.Status, Already: run.Status == StatusReverted}
	if out.Already {
		return out, 0, nil
	}
	// The source's lock keeps the run's own import out: it is dead, or
	// this waits for nothing. The lock lasts as long as the connection.
	if err := s.LockSource(ctx, run.SourceKey); err != nil {
		var locked *LockedError
		if errors.As(err, &locked) {
			return out, 0, fmt.Errorf("run %d is being imported by another process; revert it when that import ends: %w", id, err)
		}
		return out, 0, err
	}
	defer s.unlockSource(context.WithoutCancel(ctx), run.SourceKey)
	accounts, err := s.runAccounts(ctx, id)
	if err != nil {
		return out, 0, err
	}
	c.Accounts = accounts
	cid, err := s.Correct(ctx, c, func(tx pgx.Tx) (any, error) {
		if err := cameHome(ctx, tx, accounts, id, "revert %[2]s first, then run %[1]d"); err != nil {
			return nil, err
		}
		// A new owner fences whatever process held the run before.
		owner := "batchimport revert"
		if _, err := tx.Exec(ctx, `UPDATE run_progress SET owner = $2 WHERE run_id = $1`, id, owner); err != nil {
			return nil, err
		}
		r, err := s.revert(ctx, tx, id, owner, "reverted by batchimport revert", keys)
		r.Source, r.WasStatus = out.Source, out.WasStatus
		out = r
		return r, err
	})
	return out, cid, err
}

// cameHome refuses to revert a run some of whose rejects, fixed, were
// imported by later runs still standing: those rows are records of the
// run's source too, and left alone they would be imported twice once the
// source is imported again. Its rejects are those it is home to, and
// those it rejected again for another run's home: reverted, it would give
// back the reject it took, and the record, imported from its own reject,
// would come home twice.
// todo says what to do, from the run's id (%[1]d) and "it" or "them" for
// the runs named (%[2]s).
func cameHome(ctx context.Context, tx pgx.Tx, accounts []string, id int64, todo string) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT r.id, r.source_name FROM rejects j JOIN import_runs r ON r.id = j.resolved_by
		WHERE j.account = ANY($1) AND (j.home_run = $2 OR j.run_id = $2) AND r.id <> $2 AND r.status <> 'reverted' ORDER BY r.id`, accounts, id)
	if err != nil {
		return err
	}
	var runs []string
	var run int64
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&run, &name}, func() error {
		runs = append(runs, fmt.Sprintf("%d (%s)", run, name))
		return nil
	}); err != nil {
		return err
	}
	if len(runs) > 0 {
		return &CameHomeError{msg: fmt.Sprintf("run %d's rejected records, fixed, were imported by run %s: %s", id,
			strings.Join(runs, ", run "), fmt.Sprintf(todo, id, map[bool]string{true: "it", false: "them"}[len(runs) == 1]))}
	}
	return nil
}

// CameHomeError refuses to undo a run some of whose rejected records,
// fixed, other runs still standing imported.
type CameHomeError struct{ msg string }

func (e *CameHomeError) Error() string { return e.msg }

// runAccounts lists a run's accounts, its own first.
func (s *Store) runAccounts(ctx context.Context, id int64) ([]string, error) {
	var accounts []string
	err := s.q().QueryRow(ctx, `SELECT array_prepend(account, array_remove(accounts, account)) FROM runs WHERE id = $1`, id).Scan(&accounts)
	return accounts, s.lost(err)
}

func (s *Store) unlockSource(ctx context.Context, sourceKey string) {
	_, _ = s.q().Exec(ctx, `SELECT pg_advisory_unlock(hashtext('batchimport source ' || $1), hashtext($2))`, s.schema, sourceKey)
}

// revert undoes a run in tx: its transactions and their stock go, and so do
// the mappings it stored and the items it created that nothing else uses
// now (a mapping other runs' lines resolved through passes to the first of
// them); its invoices are freed, and the rejects it took back are rejects
// again. Its own rejects stay. The run is marked reverted, with why; its
// source can then be imported again as a new run.
func (s *Store) revert(ctx context.Context, tx pgx.Tx, id int64, owner, why string, keys LineKeys) (Reverted, error) {
	out := Reverted{RunID: id}
	var accounts []string
	err := tx.QueryRow(ctx, `WITH held AS (SELECT run_id, accounts FROM run_progress WHERE run_id = $1 AND owner = $2 FOR UPDATE)
		UPDATE import_runs r SET status = 'reverted', finished_at = coalesce(finished_at, now()), error = $3
		FROM held WHERE r.id = held.run_id RETURNING array_append(held.accounts, r.account)`, id, owner, why).Scan(&accounts)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, s.fenced(ctx, tx, id)
	}
	if err != nil {
		return out, err
	}
	// The statistics of tables a run has just filled are stale, the more so
	// when --max-rejects reverts it at once: planned on them, the invoice
	// hand-over below ran as a nested loop of the run's invoices over the
	// account's transactions, for minutes at 18,000 rows. Hash joins do it
	// in milliseconds whatever the statistics say.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return out, err
	}
	// The items and mappings the run created go only while no other
	// import of its accounts runs: one may have resolved lines to them
	// since, and would see its rows refused for want of their item. A
	// revert of batchimport revert holds the accounts' locks already; an
	// import that reverts its own run holds them shared, as others do.
	alone, err := s.accountsAlone(ctx, tx, accounts)
	if err != nil {
		return out, err
	}
	out.CatalogueKept = !alone
	var used usedMappings
	if alone {
		if used, err = mappingsUsed(ctx, tx, accounts, id, keys); err != nil {
			return out, err
		}
	}
	// Every statement names the accounts, so that it runs on Citus.
	var homeFreed int64
	steps := []struct {
		count *int64
		sql   string
	}{
		{&out.ItemsRestocked, `UPDATE inventory_items AS i SET quantity = i.quantity - d.qty
			FROM (SELECT account, item_id, sum(base_quantity) AS qty FROM transactions
			      WHERE account = ANY($1) AND run_id = $2 GROUP BY 1, 2 ORDER BY 1, 2) AS d
			WHERE i.account = d.account AND i.id = d.item_id`},
		// An invoice its fixed records claimed for the run they came home
		// to, of which no other run holds a line, is freed too: owned by a
		// run with none of its lines, it would make the invoice's lines a
		// duplicate of nothing.
		{&homeFreed, `DELETE FROM invoices AS i
			USING (SELECT DISTINCT account, invoice_vendor(vendor) AS vendor, invoice_number_key(invoice_number) AS invoice_number FROM transactions
			       WHERE account = ANY($1) AND run_id = $2) AS o
			WHERE i.account = ANY($1) AND i.account = o.account AND i.vendor = o.vendor AND i.invoice_number = o.invoice_number
			  AND i.run_id <> $2 AND NOT EXISTS (SELECT FROM transactions t WHERE t.account = i.account
			      AND invoice_vendor(t.vendor) = i.vendor AND invoice_number_key(t.invoice_number) = i.invoice_number AND t.run_id <> $2)`},
		{&out.Transactions, `DELETE FROM transactions WHERE account = ANY($1) AND run_id = $2`},
		// A mapping later runs' lines resolved through stays, theirs:
		// deleted and inserted again, as the grants allow an import.
		{nil, `WITH u AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) AS u(a, v, k, key, r)),
			moved AS (DELETE FROM item_mappings AS m USING u
			      WHERE m.account = ANY($1) AND m.account = u.a AND m.vendor = u.v AND m.key_kind = u.k AND m.key = u.key AND m.run_id = $2 AND $3
			      RETURNING m.account, m.vendor, m.key_kind, m.key, m.item_id, m.method, m.score, m.created_at, u.r)
			INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method, score, created_at, run_id) SELECT * FROM moved`},
		{&out.MappingsRemoved, `DELETE FROM item_mappings WHERE account = ANY($1) AND run_id = $2 AND $3`},
		// An invoice whose lines another run still holds (imported with
		// --force) passes to the first such run rather than being freed:
		// freed, the same lines re-sent would be imported beside them. It
		// is deleted and inserted again, not updated: the README's grants
		// give an import no UPDATE of invoices, and --max-rejects reverts.
		{nil, `WITH o AS (SELECT t.account, invoice_vendor(t.vendor) AS vendor, invoice_number_key(t.invoice_number) AS invoice_number,
			      min(t.run_id) AS run_id
			      FROM transactions t
			      WHERE t.account = ANY($1) AND t.run_id <> $2 AND (t.account, invoice_vendor(t.vendor), invoice_number_key(t.invoice_number)) IN
			            (SELECT account, vendor, invoice_number FROM invoices WHERE account = ANY($1) AND run_id = $2)
			      GROUP BY 1, 2, 3),
			moved AS (DELETE FROM invoices AS i USING o
			      WHERE i.account = ANY($1) AND i.account = o.account AND i.vendor = o.vendor AND i.invoice_number = o.invoice_number AND i.run_id = $2
			      RETURNING i.account, i.vendor, i.invoice_number, o.run_id)
			INSERT INTO invoices (account, vendor, invoice_number, run_id) SELECT * FROM moved`},
		{&out.InvoicesFreed, `DELETE FROM invoices WHERE account = ANY($1) AND run_id = $2`},
		// What it proposed for review and nobody decided goes with it.
		{nil, `DELETE FROM mapping_proposals WHERE account = ANY($1) AND run_id = $2 AND status = 'pending'`},
		{&out.RejectsReopened, `UPDATE rejects SET resolved_by = NULL WHERE account = ANY($1) AND resolved_by = $2`},
		{&out.ItemsRemoved, `DELETE FROM inventory_items AS i WHERE i.account = ANY($1) AND i.run_id = $2 AND i.quantity = 0 AND $3
			AND NOT EXISTS (SELECT FROM transactions t WHERE t.account = i.account AND t.item_id = i.id)
			AND NOT EXISTS (SELECT FROM item_mappings m WHERE m.account = i.account AND m.item_id = i.id)
			AND NOT EXISTS (SELECT FROM item_aliases a WHERE a.account = i.account AND a.item_id = i.id)`},
	}
	for _, st := range steps {
		args := []any{accounts, id}
		if strings.Contains(st.sql, "$4") {
			args = append(args, alone, used.accounts, used.vendors, used.kinds, used.keys, used.runs)
		} else if strings.Contains(st.sql, "$3") {
			args = append(args, alone)
		}
		tag, err := tx.Exec(ctx, st.sql, args...)
		if err != nil {
			return out, err
		}
		if st.count != nil {
			*st.count = tag.RowsAffected()
		}
	}
	out.InvoicesFreed += homeFreed
	return out, nil
}

// accountsAlone takes the accounts' locks until the transaction ends, if
// no other session holds them, and says whether it did: whether no other
// import of the accounts is running.
func (s *Store) accountsAlone(ctx context.Context, tx pgx.Tx, accounts []string) (bool, error) {
	sorted := slices.Compact(slices.Sorted(slices.Values(accounts)))
	for _, a := range sorted {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+accountLock+`)`, s.schema, a).Scan(&ok); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
