package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RevertRun undoes a run in one transaction, if owner still holds it (else
// *FencedError): its transactions and their stock go, and so do the
// mappings it stored and the items it created that nothing else uses now;
// its invoices are freed, and the rejects it took back are rejects again.
// Its own rejects stay. The run is marked reverted, with why; its source can
// then be imported again as a new run.
func (s *Store) RevertRun(ctx context.Context, id int64, owner, why string) error {
	if s.conn == nil {
		return errNotConnected
	}
	return s.lost(pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		var accounts []string
		err := tx.QueryRow(ctx, `UPDATE import_runs SET status = 'reverted', finished_at = now(), error = $3
			WHERE id = $1 AND owner = $2 RETURNING array_append(accounts, account)`, id, owner, why).Scan(&accounts)
		if err == pgx.ErrNoRows {
			return s.fenced(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		// Every statement names the accounts, so that it runs on Citus.
		stmts := []string{
			`UPDATE inventory_items AS i SET quantity = i.quantity - d.qty
			FROM (SELECT account, item_id, sum(base_quantity) AS qty FROM transactions
			      WHERE account = ANY($1) AND run_id = $2 GROUP BY 1, 2 ORDER BY 1, 2) AS d
			WHERE i.account = d.account AND i.id = d.item_id`,
			`DELETE FROM transactions WHERE account = ANY($1) AND run_id = $2`,
			`DELETE FROM item_mappings WHERE account = ANY($1) AND run_id = $2`,
			`DELETE FROM invoices WHERE account = ANY($1) AND run_id = $2`,
			// What it proposed for review and nobody decided goes with it.
			`DELETE FROM mapping_proposals WHERE account = ANY($1) AND run_id = $2 AND status = 'pending'`,
			// The rejects it took back, fixed, are rejects again.
			`UPDATE rejects SET resolved_by = NULL WHERE account = ANY($1) AND resolved_by = $2`,
			`DELETE FROM inventory_items AS i WHERE i.account = ANY($1) AND i.run_id = $2 AND i.quantity = 0
			AND NOT EXISTS (SELECT FROM transactions t WHERE t.account = i.account AND t.item_id = i.id)
			AND NOT EXISTS (SELECT FROM item_mappings m WHERE m.account = i.account AND m.item_id = i.id)`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q, accounts, id); err != nil {
				return err
			}
		}
		return nil
	}))
}
