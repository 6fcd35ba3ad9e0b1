package store

import (
	"context"
)

// Item is a row of inventory_items, as the resolver needs it.
type Item struct {
	ID         int64
	Name       string
	Normalized string
	Unit       string
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

// LoadCatalogue reads an account's items and mappings in two statements, so
// that resolution never costs a round trip per line.
func (s *Store) LoadCatalogue(ctx context.Context, account string) ([]Item, []Mapping, error) {
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
	return items, maps, s.lost(rows.Err())
}
