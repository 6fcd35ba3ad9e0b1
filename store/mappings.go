package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// MappingRow is a stored mapping, with its item's name.
type MappingRow struct {
	Vendor    string    `json:"vendor"`
	KeyKind   string    `json:"key_kind"`
	Key       string    `json:"key"`
	ItemID    int64     `json:"item_id"`
	ItemName  string    `json:"item_name"`
	Method    string    `json:"method"`
	Score     float64   `json:"score"`
	RunID     *int64    `json:"run_id"`
	CreatedAt time.Time `json:"created_at"`
}

// MappingFilter picks mappings of an account: by method, vendor (as
// stored, normalized) and run, each when not empty.
type MappingFilter struct {
	Account, Method, Vendor string
	RunID                   int64
}

// ListMappings lists an account's mappings, by vendor, kind and key.
func (s *Store) ListMappings(ctx context.Context, f MappingFilter) ([]MappingRow, error) {
	rows, err := s.q().Query(ctx, `SELECT m.vendor, m.key_kind, m.key, m.item_id, i.name, m.method, coalesce(m.score, 1), m.run_id, m.created_at
		FROM item_mappings m JOIN inventory_items i ON i.account = m.account AND i.id = m.item_id
		WHERE m.account = $1 AND ($2 = '' OR m.method = $2) AND ($3 = '' OR m.vendor = $3) AND ($4 = 0 OR m.run_id = $4)
		ORDER BY m.vendor, m.key_kind, m.key`, f.Account, f.Method, f.Vendor, f.RunID)
	if err != nil {
		return nil, s.lost(err)
	}
	var out []MappingRow
	var m MappingRow
	var score float32
	_, err = pgx.ForEachRow(rows, []any{&m.Vendor, &m.KeyKind, &m.Key, &m.ItemID, &m.ItemName, &m.Method, &score, &m.RunID, &m.CreatedAt}, func() error {
		m.Score = float64(score)
		out = append(out, m)
		return nil
	})
	return out, s.lost(err)
}

// MappingChange maps a vendor's key (vendor normalized, key as stored) to
// an item, by a person.
type MappingChange struct {
	Vendor, KeyKind, Key string
	ItemID               int64
	// NewItem, when set, is created (or found, by its normalized name) and
	// mapped instead of ItemID; with no unit, it counts in the unit of the
	// item the key mapped to.
	NewItem *NewItem
	// Resolves picks, among the transactions of the item the key mapped
	// to, those resolved through the key (its vendor, and its SKU or a
	// description of its key).
	Resolves func(vendor, sku, description string) bool
	// MoveHistory moves the transactions Resolves picks to the new item,
	// with their stock.
	MoveHistory bool
}

// MappingSet is what a change did.
type MappingSet struct {
	Vendor  string `json:"vendor"`
	KeyKind string `json:"key_kind"`
	Key     string `json:"key"`
	Was     *int64 `json:"was_item_id"` // nil: the key was not mapped
	ItemID  int64  `json:"item_id"`
	Created bool   `json:"item_created"`
	// SKUs are the vendor's SKU mappings set along with a description's:
	// those of the lines of that description, which would otherwise keep
	// resolving them (a SKU mapping comes first) to the old item.
	SKUs  []string `json:"skus_set,omitempty"`
	Moved *Moved   `json:"history_moved,omitempty"`
}

// SetMappings applies changes to an account's mappings, as one correction:
// each becomes a person's mapping (method manual, no run), and the history
// of each that asks for it moves, each line converted again into the new
// item's base unit (refused when conv has no conversion of one).
func (s *Store) SetMappings(ctx context.Context, c Correction, account string, changes []MappingChange, conv Reconverter) ([]MappingSet, int64, error) {
	var out []MappingSet
	c.Accounts = []string{account}
	id, err := s.Correct(ctx, c, func(tx pgx.Tx) (any, error) {
		out = out[:0]
		for _, ch := range changes {
			set, err := s.setMapping(ctx, tx, account, ch, conv)
			if err != nil {
				return nil, fmt.Errorf("vendor %q %s %q: %w", ch.Vendor, ch.KeyKind, ch.Key, err)
			}
			out = append(out, set)
		}
		return out, nil
	})
	return out, id, err
}

func (s *Store) setMapping(ctx context.Context, tx pgx.Tx, account string, ch MappingChange, conv Reconverter) (MappingSet, error) {
	set := MappingSet{Vendor: ch.Vendor, KeyKind: ch.KeyKind, Key: ch.Key, ItemID: ch.ItemID}
	err := tx.QueryRow(ctx, `SELECT item_id FROM item_mappings WHERE account = $1 AND vendor = $2 AND key_kind = $3 AND key = $4 FOR UPDATE`,
		account, ch.Vendor, ch.KeyKind, ch.Key).Scan(&set.Was)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return set, err
	}
	var was Item
	if set.Was != nil {
		if was, err = lockItem(ctx, tx, account, *set.Was); err != nil {
			return set, err
		}
	}
	if ch.NewItem != nil {
		it := *ch.NewItem
		it.Account, it.ID = account, &set.ItemID
		if it.Unit == "" {
			it.Unit = was.Unit
		}
		n, err := s.insertItems(ctx, tx, 0, []NewItem{it})
		if err != nil {
			return set, err
		}
		set.Created = n == 1
	}
	into, err := lockItem(ctx, tx, account, set.ItemID)
	if err != nil {
		return set, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method, score)
		VALUES ($1, $2, $3, $4, $5, 'manual', 1)
		ON CONFLICT (account, vendor, key_kind, key) DO UPDATE
		SET item_id = excluded.item_id, method = excluded.method, score = excluded.score, run_id = NULL`,
		account, ch.Vendor, ch.KeyKind, ch.Key, set.ItemID); err != nil {
		return set, err
	}
	if ch.Resolves == nil || set.Was == nil || *set.Was == set.ItemID {
		return set, nil
	}
	ids, skus, err := resolvedThrough(ctx, tx, account, was.ID, ch.Resolves)
	if err != nil {
		return set, err
	}
	if ch.KeyKind == "description" {
		// One SKU at a time, by the whole key: with key = ANY(list), a
		// plan made before item_mappings had statistics read all of the
		// vendor's SKU mappings for each change (16 ms each for 50,000).
		for _, sku := range skus {
			tag, err := tx.Exec(ctx, `UPDATE item_mappings SET item_id = $5, method = 'manual', score = 1, run_id = NULL
				WHERE account = $1 AND vendor = $2 AND key_kind = 'sku' AND key = $3 AND item_id = $4`,
				account, ch.Vendor, sku, was.ID, into.ID)
			if err != nil {
				return set, err
			}
			if tag.RowsAffected() > 0 {
				set.SKUs = skus
			}
		}
	}
	if !ch.MoveHistory {
		return set, nil
	}
	if into.Units, err = itemUnits(ctx, tx, account, into.ID); err != nil {
		return set, err
	}
	moved, err := moveLines(ctx, tx, account, was, into, ids, conv)
	if err != nil {
		return set, fmt.Errorf("its history cannot move from item %d %q, in %q, to item %d %q, in %q: %w", was.ID, was.Name, was.Unit, into.ID, into.Name, into.Unit, err)
	}
	set.Moved = &moved
	return set, nil
}

// moveLines moves transactions ids of item from to item into, each
// converted again, from its quantity, unit and pack as read, into into's
// base unit, as an import of it would have: the wrong item's pack size
// or conversions must not stay in the history. A line without a unit was
// in from's base unit. The stock moves with them.
func moveLines(ctx context.Context, tx pgx.Tx, account string, from, into Item, ids []int64, conv Reconverter) (Moved, error) {
	out := Moved{Removed: "0", Added: "0"}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, quantity::text, coalesce(unit, ''), coalesce(pack, ''), description, base_quantity::text
		FROM transactions WHERE account = $1 AND item_id = $2 AND id = ANY($3) ORDER BY id FOR UPDATE`, account, from.ID, ids)
	if err != nil {
		return out, err
	}
	var moved []int64
	var bases []string
	removed, added := decimal.Zero, decimal.Zero
	var id int64
	var quantity, base string
	var l Line
	_, err = pgx.ForEachRow(rows, []any{&id, &quantity, &l.Unit, &l.Pack, &l.Description, &base}, func() error {
		q, err := decimal.NewFromString(quantity)
		if err != nil {
			return err
		}
		was, err := decimal.NewFromString(base)
		if err != nil {
			return err
		}
		if l.Quantity = q; l.Unit == "" {
			// Read in the base unit of the item the line was first
			// given, which a merge or an earlier move may have made
			// another than from's: its base quantity is in from's.
			l.Quantity, l.Unit = was, from.Unit
		}
		now, err := conv(l, into)
		if err != nil {
			return fmt.Errorf("transaction %d (%s of %q): %w", id, strings.TrimSpace(quantity+" "+l.Unit), l.Description, err)
		}
		moved, bases = append(moved, id), append(bases, now.String())
		removed, added = removed.Add(was), added.Add(now)
		return nil
	})
	if err != nil {
		return out, err
	}
	// As the column holds them: 0.001s.
	out.Transactions, out.Removed, out.Added = int64(len(moved)), removed.StringFixed(3), added.StringFixed(3)
	if _, err := tx.Exec(ctx, `UPDATE transactions AS t SET item_id = $3, base_quantity = u.base::numeric
		FROM unnest($4::bigint[], $5::text[]) AS u(id, base)
		WHERE t.account = $1 AND t.item_id = $2 AND t.id = u.id`, account, from.ID, into.ID, moved, bases); err != nil {
		return out, err
	}
	_, err = tx.Exec(ctx, `UPDATE inventory_items AS i
		SET quantity = i.quantity + CASE WHEN i.id = $2 THEN -$4::numeric ELSE $5::numeric END
		WHERE i.account = $1 AND i.id IN ($2, $3)`, account, from.ID, into.ID, out.Removed, out.Added)
	return out, err
}

// resolvedThrough lists the transactions of an item that pick says were
// resolved through a key, and the SKUs they carry.
func resolvedThrough(ctx context.Context, tx pgx.Tx, account string, item int64, pick func(vendor, sku, description string) bool) ([]int64, []string, error) {
	rows, err := tx.Query(ctx, `SELECT id, vendor, coalesce(vendor_sku, ''), description FROM transactions WHERE account = $1 AND item_id = $2`, account, item)
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	var skus []string
	var id int64
	var vendor, sku, desc string
	_, err = pgx.ForEachRow(rows, []any{&id, &vendor, &sku, &desc}, func() error {
		if pick(vendor, sku, desc) {
			ids = append(ids, id)
			if sku != "" && !slices.Contains(skus, sku) {
				skus = append(skus, sku)
			}
		}
		return nil
	})
	return ids, skus, err
}
