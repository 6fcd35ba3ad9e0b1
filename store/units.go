package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// ItemUnit is a conversion an operator set for an item: one Unit holds
// Factor of the item's base unit.
type ItemUnit struct {
	ItemID   int64
	ItemName string
	Base     string
	Unit     string
	Factor   decimal.Decimal
}

// ErrNoItem says an item does not exist in the account.
var ErrNoItem = errors.New("no such item")

// ItemOf reads an item of an account.
func (s *Store) ItemOf(ctx context.Context, account string, id int64) (Item, error) {
	it := Item{ID: id}
	err := s.q().QueryRow(ctx, `SELECT name, normalized_name, coalesce(unit, '') FROM inventory_items WHERE account = $1 AND id = $2`,
		account, id).Scan(&it.Name, &it.Normalized, &it.Unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, fmt.Errorf("item %d of account %q: %w", id, account, ErrNoItem)
	}
	return it, s.lost(err)
}

// ItemNamed finds an item of an account by its normalized name, which is
// unique, or by an alias it has.
func (s *Store) ItemNamed(ctx context.Context, account, normalized string) (Item, error) {
	it := Item{Normalized: normalized}
	// An item's own name first, then the name of an item merged into it.
	err := s.q().QueryRow(ctx, `SELECT id, name, coalesce(unit, '') FROM (
			SELECT 1, id, name, unit FROM inventory_items WHERE account = $1 AND normalized_name = $2
			UNION ALL
			SELECT 2, i.id, i.name, i.unit FROM item_aliases a JOIN inventory_items i ON i.account = a.account AND i.id = a.item_id
			WHERE a.account = $1 AND a.normalized_name = $2) AS n(rank, id, name, unit)
		ORDER BY rank LIMIT 1`,
		account, normalized).Scan(&it.ID, &it.Name, &it.Unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, fmt.Errorf("no item of account %q is named %q: %w", account, normalized, ErrNoItem)
	}
	return it, s.lost(err)
}

// SetUnit stores (or replaces) the conversion of unit, normalized, for an
// item of an account, as a correction of the account.
func (s *Store) SetUnit(ctx context.Context, c Correction, account string, itemID int64, unit string, factor decimal.Decimal) (int64, error) {
	c.Accounts = []string{account}
	return s.Correct(ctx, c, func(tx pgx.Tx) (any, error) {
		var was *string
		err := tx.QueryRow(ctx, `SELECT factor::text FROM item_units WHERE account = $1 AND item_id = $2 AND unit = $3`, account, itemID, unit).Scan(&was)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		_, err = tx.Exec(ctx, `INSERT INTO item_units (account, item_id, unit, factor) VALUES ($1, $2, $3, $4::numeric)
			ON CONFLICT (account, item_id, unit) DO UPDATE SET factor = excluded.factor, set_at = now()`,
			account, itemID, unit, factor.String())
		return map[string]any{"item_id": itemID, "unit": unit, "factor": factor.String(), "was": was}, err
	})
}

// ListUnits lists the conversions set for an account's items (itemID 0:
// all of them), by item and unit.
func (s *Store) ListUnits(ctx context.Context, account string, itemID int64) ([]ItemUnit, error) {
	rows, err := s.q().Query(ctx, `SELECT u.item_id, i.name, coalesce(i.unit, ''), u.unit, u.factor::text
		FROM item_units u JOIN inventory_items i ON i.account = u.account AND i.id = u.item_id
		WHERE u.account = $1 AND ($2 = 0 OR u.item_id = $2) ORDER BY u.item_id, u.unit`, account, itemID)
	if err != nil {
		return nil, s.lost(err)
	}
	var out []ItemUnit
	var u ItemUnit
	var factor string
	_, err = pgx.ForEachRow(rows, []any{&u.ItemID, &u.ItemName, &u.Base, &u.Unit, &factor}, func() error {
		var err error
		u.Factor, err = decimal.NewFromString(factor)
		out = append(out, u)
		return err
	})
	return out, s.lost(err)
}
