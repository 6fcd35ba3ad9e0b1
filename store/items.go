package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// NewItem is an inventory item that a row is the first to need. ID points
// at the importer's copy of the item's id, which the insert sets (again on
// a retry).
type NewItem struct {
	Account    string
	Name       string
	Normalized string
	Unit       string
	ID         *int64
}

// NewMapping is an item mapping that a row stores.
type NewMapping struct {
	Account string
	Vendor  string
	KeyKind string
	Key     string
	ItemID  *int64
	Method  string
	Score   float64
}

// insertItems creates items for a run, in the order given (the file's:
// their ids follow it), and sets each item's id. Concurrent imports take
// the names first, as advisory locks (of the schema's items) in (account,
// normalized name) order, so that two never wait for each other's names
// within one call; a transaction that carries several batches may still,
// and the server breaks such a cycle (40P01). An item that a concurrent
// import created first is used as it is. It returns how many items it
// created.
func (s *Store) insertItems(ctx context.Context, tx pgx.Tx, runID int64, items []NewItem) (created int, err error) {
	if len(items) == 0 {
		return 0, nil
	}
	n := len(items)
	accounts, names, norms, units := make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	for i, it := range items {
		accounts[i], names[i], norms[i], units[i] = it.Account, it.Name, it.Normalized, nullable(it.Unit)
	}
	if n > 1 {
		sorted := slices.Clone(items)
		slices.SortFunc(sorted, func(a, b NewItem) int {
			return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Normalized, b.Normalized))
		})
		sa, sn := make([]string, n), make([]string, n)
		for i, it := range sorted {
			sa[i], sn[i] = it.Account, it.Normalized
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('batchimport item ' || current_schema() || ' ' || u.a), hashtext(u.n))
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, n, o) ORDER BY u.o`, sa, sn); err != nil {
			return 0, err
		}
	}
	ids := make(map[[2]string]int64, n)
	rows, err := tx.Query(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit, run_id)
		SELECT u.a, u.na, u.nn, u.un, nullif($5::bigint, 0)
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(a, na, nn, un, o)
		ORDER BY u.o
		ON CONFLICT (account, normalized_name) DO NOTHING
		RETURNING account, normalized_name, id`, accounts, names, norms, units, runID)
	if err != nil {
		return 0, err
	}
	if err := collectIDs(rows, ids); err != nil {
		return 0, err
	}
	created = len(ids)
	if created < n {
		rows, err := tx.Query(ctx, `SELECT i.account, i.normalized_name, i.id
			FROM inventory_items i JOIN unnest($1::text[], $2::text[]) AS n(account, normalized_name)
			ON i.account = n.account AND i.normalized_name = n.normalized_name`, accounts, norms)
		if err != nil {
			return 0, err
		}
		if err := collectIDs(rows, ids); err != nil {
			return 0, err
		}
	}
	for _, it := range items {
		id, ok := ids[[2]string{it.Account, it.Normalized}]
		if !ok {
			return 0, fmt.Errorf("item %q of account %q was neither created nor found", it.Name, it.Account)
		}
		*it.ID = id
	}
	return created, nil
}

func collectIDs(rows pgx.Rows, ids map[[2]string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var account, norm string
		var id int64
		if err := rows.Scan(&account, &norm, &id); err != nil {
			return err
		}
		ids[[2]string{account, norm}] = id
	}
	return rows.Err()
}

// insertMappings stores mappings for a run. A key that a concurrent import
// mapped first keeps that mapping.
func (s *Store) insertMappings(ctx context.Context, tx pgx.Tx, runID int64, ms []NewMapping) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	accounts, vendors, kinds, keys, methods := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	itemIDs, scores := make([]int64, n), make([]float32, n)
	for i, m := range ms {
		accounts[i], vendors[i], kinds[i], keys[i], methods[i] = m.Account, m.Vendor, m.KeyKind, m.Key, m.Method
		itemIDs[i], scores[i] = *m.ItemID, float32(m.Score)
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method, score, run_id)
		SELECT u.*, $8::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::real[]) AS u
		ON CONFLICT (account, vendor, key_kind, key) DO NOTHING`,
		accounts, vendors, kinds, keys, itemIDs, methods, scores, runID)
	return err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
