package store

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Item is a row of inventory_items, as the resolver needs it.
type Item struct {
	ID         int64
	Name       string
	Normalized string
	Unit       string                     // the base unit
	Units      map[string]decimal.Decimal // operators' conversions: base units in one unit
}

// Mapping is a row of item_mappings.
type Mapping struct {
	Vendor  string
	KeyKind string
	Key     string
	ItemID  int64
	Method  string
	Score   float64
}

// Catalogue is what resolving an account's lines needs: its items (with
// their unit conversions), its mappings, and the proposals people declined.
type Catalogue struct {
	Items    []Item
	Mappings []Mapping
	Declined []Proposal
}

// LoadCatalogue reads an account's catalogue in a few statements, so that
// resolution never costs a round trip per line.
func (s *Store) LoadCatalogue(ctx context.Context, account string) (Catalogue, error) {
	items, maps, err := s.loadCatalogue(ctx, account)
	if err != nil {
		return Catalogue{}, err
	}
	declined, err := s.declined(ctx, account)
	return Catalogue{Items: items, Mappings: maps, Declined: declined}, err
}

func (s *Store) loadCatalogue(ctx context.Context, account string) ([]Item, []Mapping, error) {
	if s.conn == nil {
		return nil, nil, errNotConnected
	}
	rows, err := s.q().Query(ctx, `SELECT id, name, normalized_name, coalesce(unit, '')
		FROM inventory_items WHERE account = $1 ORDER BY id`, account)
	if err != nil {
		return nil, nil, s.lost(err)
	}
	var items []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Name, &it.Normalized, &it.Unit); err != nil {
			rows.Close()
			return nil, nil, err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.lost(err)
	}
	rows, err = s.q().Query(ctx, `SELECT vendor, key_kind, key, item_id, method, coalesce(score, 1)
		FROM item_mappings WHERE account = $1`, account)
	if err != nil {
		return nil, nil, s.lost(err)
	}
	var maps []Mapping
	for rows.Next() {
		var m Mapping
		var score float32
		if err := rows.Scan(&m.Vendor, &m.KeyKind, &m.Key, &m.ItemID, &m.Method, &score); err != nil {
			rows.Close()
			return nil, nil, err
		}
		m.Score = float64(score)
		maps = append(maps, m)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.lost(err)
	}
	return items, maps, s.loadUnits(ctx, account, items)
}

// loadUnits adds the conversions operators set to the account's items,
// which are in id order.
func (s *Store) loadUnits(ctx context.Context, account string, items []Item) error {
	rows, err := s.q().Query(ctx, `SELECT item_id, unit, factor::text FROM item_units WHERE account = $1`, account)
	if err != nil {
		return s.lost(err)
	}
	var id int64
	var unit, text string
	_, err = pgx.ForEachRow(rows, []any{&id, &unit, &text}, func() error {
		factor, err := decimal.NewFromString(text)
		if err != nil {
			return err
		}
		i, ok := slices.BinarySearchFunc(items, id, func(it Item, id int64) int { return cmp.Compare(it.ID, id) })
		if !ok {
			return nil
		}
		if items[i].Units == nil {
			items[i].Units = map[string]decimal.Decimal{}
		}
		items[i].Units[unit] = factor
		return nil
	})
	return s.lost(err)
}
