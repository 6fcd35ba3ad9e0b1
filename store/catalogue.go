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
	ID         int64                      `json:"id"`
	Name       string                     `json:"name"`
	Normalized string                     `json:"normalized_name"`
	Unit       string                     `json:"unit"`            // the base unit
	Units      map[string]decimal.Decimal `json:"units,omitempty"` // operators' conversions: base units in one unit
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

// Alias is the name of an item merged into another: a line of any vendor
// that names it resolves to the item kept.
type Alias struct {
	Normalized string
	ItemID     int64
	Name       string // as the merged item was named
}

// Catalogue is what resolving an account's lines needs: its items (with
// their unit conversions), its mappings, the names merged items left, and
// the proposals people declined. Corrected is the account's latest
// correction when it was loaded: a commit resolved against it is refused
// once there is a newer one.
type Catalogue struct {
	Items     []Item
	Mappings  []Mapping
	Aliases   []Alias
	Declined  []Proposal
	Corrected int64
}

// LoadCatalogue reads an account's catalogue in a few statements, so that
// resolution never costs a round trip per line.
func (s *Store) LoadCatalogue(ctx context.Context, account string) (Catalogue, error) {
	// The latest correction first: one that commits while the rest loads
	// makes the catalogue look older than it is, never newer.
	corrected, err := s.lastCorrection(ctx, account)
	if err != nil {
		return Catalogue{}, err
	}
	items, maps, err := s.loadCatalogue(ctx, account)
	if err != nil {
		return Catalogue{}, err
	}
	aliases, err := s.aliases(ctx, account)
	if err != nil {
		return Catalogue{}, err
	}
	declined, err := s.declined(ctx, account)
	return Catalogue{Items: items, Mappings: maps, Aliases: aliases, Declined: declined, Corrected: corrected}, err
}

func (s *Store) aliases(ctx context.Context, account string) ([]Alias, error) {
	rows, err := s.q().Query(ctx, `SELECT normalized_name, item_id, name FROM item_aliases WHERE account = $1 ORDER BY normalized_name`, account)
	if err != nil {
		return nil, s.lost(err)
	}
	as, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Alias])
	return as, s.lost(err)
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
	// An account's mappings name a few vendors, two kinds and a few
	// methods: each is read as one string, not one per mapping (three
	// 16-byte strings fewer per mapping), and those vendors are what the
	// resolver keeps, for the whole run.
	same := map[string]string{}
	intern := func(b []byte) string {
		if s, ok := same[string(b)]; ok {
			return s
		}
		s := string(b)
		same[s] = s
		return s
	}
	for rows.Next() {
		var m Mapping
		var score float32
		if err := rows.Scan(nil, nil, &m.Key, &m.ItemID, nil, &score); err != nil {
			rows.Close()
			return nil, nil, err
		}
		raw := rows.RawValues() // text: the same bytes in either format
		m.Vendor, m.KeyKind, m.Method, m.Score = intern(raw[0]), intern(raw[1]), intern(raw[4]), float64(score)
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
