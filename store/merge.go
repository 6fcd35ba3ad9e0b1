package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Converter says how many of into's base unit one unit holds, or why
// there is no conversion (package units knows).
type Converter func(unit string, into Item) (decimal.Decimal, error)

// Line is a transaction as it was read: what converting it again needs.
type Line struct {
	Quantity                decimal.Decimal
	Unit, Pack, Description string
}

// Reconverter is a line's quantity in into's base unit, converted as an
// import converts it, or why it has no conversion (package units knows).
type Reconverter func(l Line, into Item) (decimal.Decimal, error)

// Moved is what moving transactions from one item to another did.
type Moved struct {
	Transactions int64  `json:"transactions"`
	Factor       string `json:"factor,omitempty"` // into's base units in one of from's; "": each line converted again
	Removed      string `json:"quantity_from"`    // stock taken from the first item, in its base unit
	Added        string `json:"quantity_into"`    // stock added to the other, in its base unit
}

// Merged is what merging one item into another did.
type Merged struct {
	From     Item  `json:"from"`
	Into     Item  `json:"into"`
	Moved    Moved `json:"moved"`
	Mappings int64 `json:"mappings_moved"`
	Aliases  int64 `json:"aliases"` // from's name and the names merged into it before
	Units    int64 `json:"unit_conversions_moved"`
}

// MergeItems merges item from into item into, as a correction of account:
// from's transactions move to into with their stock, converted into into's
// base unit (refused when conv has no conversion); its mappings point at
// into; its name, and the names merged into it, stay as aliases of into,
// for every vendor; its unit conversions go to into where into has none
// for the unit and has no conversion of it by definition; then from is
// deleted.
func (s *Store) MergeItems(ctx context.Context, c Correction, account string, from, into int64, conv Converter) (Merged, int64, error) {
	var out Merged
	if from == into {
		return out, 0, fmt.Errorf("item %d cannot be merged into itself", from)
	}
	c.Accounts = []string{account}
	id, err := s.Correct(ctx, c, func(tx pgx.Tx) (any, error) {
		var err error
		if out.From, err = lockItem(ctx, tx, account, from); err != nil {
			return nil, err
		}
		if out.Into, err = lockItem(ctx, tx, account, into); err != nil {
			return nil, err
		}
		if out.Into.Units, err = itemUnits(ctx, tx, account, into); err != nil {
			return nil, err
		}
		factor, err := conv(out.From.Unit, out.Into)
		if err != nil {
			return nil, fmt.Errorf("item %d %q counts in %q, item %d %q in %q: %w", from, out.From.Name, out.From.Unit, into, out.Into.Name, out.Into.Unit, err)
		}
		if out.Moved, err = moveTransactions(ctx, tx, account, from, into, factor); err != nil {
			return nil, err
		}
		f := factor.String()
		// Not a unit that converts into into's base unit by definition (kg
		// into lb), which units set refuses: it would override that.
		units, err := itemUnits(ctx, tx, account, from)
		if err != nil {
			return nil, err
		}
		moving := []string{}
		for u := range units {
			if _, err := conv(u, Item{ID: into, Unit: out.Into.Unit}); u != out.Into.Unit && err != nil {
				moving = append(moving, u)
			}
		}
		steps := []struct {
			count *int64
			sql   string
			args  []any
		}{
			{&out.Mappings, `UPDATE item_mappings SET item_id = $3 WHERE account = $1 AND item_id = $2`, nil},
			{&out.Aliases, `UPDATE item_aliases SET item_id = $3 WHERE account = $1 AND item_id = $2`, nil},
			{nil, `INSERT INTO item_aliases (account, normalized_name, name, item_id)
				SELECT account, normalized_name, name, $3 FROM inventory_items WHERE account = $1 AND id = $2
				ON CONFLICT (account, normalized_name) DO UPDATE SET item_id = excluded.item_id`, nil},
			{&out.Units, `INSERT INTO item_units (account, item_id, unit, factor)
				SELECT account, $3, unit, factor * $4::numeric FROM item_units
				WHERE account = $1 AND item_id = $2 AND unit = ANY($5)
				ON CONFLICT (account, item_id, unit) DO NOTHING`, []any{f, moving}},
			{nil, `DELETE FROM inventory_items WHERE account = $1 AND id = $2`, nil},
		}
		for _, st := range steps {
			args := []any{account, from}
			if strings.Contains(st.sql, "$3") {
				args = append(args, into)
			}
			tag, err := tx.Exec(ctx, st.sql, append(args, st.args...)...)
			if err != nil {
				return nil, err
			}
			if st.count != nil {
				*st.count = tag.RowsAffected()
			}
		}
		out.Aliases++
		return out, nil
	})
	return out, id, err
}

// lockItem reads an item and locks it until the transaction ends.
func lockItem(ctx context.Context, tx pgx.Tx, account string, id int64) (Item, error) {
	it := Item{ID: id}
	err := tx.QueryRow(ctx, `SELECT name, normalized_name, coalesce(unit, '') FROM inventory_items WHERE account = $1 AND id = $2 FOR UPDATE`,
		account, id).Scan(&it.Name, &it.Normalized, &it.Unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, fmt.Errorf("item %d of account %q: %w", id, account, ErrNoItem)
	}
	return it, err
}

// itemUnits reads the conversions set for an item.
func itemUnits(ctx context.Context, tx pgx.Tx, account string, id int64) (map[string]decimal.Decimal, error) {
	rows, err := tx.Query(ctx, `SELECT unit, factor::text FROM item_units WHERE account = $1 AND item_id = $2`, account, id)
	if err != nil {
		return nil, err
	}
	units := map[string]decimal.Decimal{}
	var unit, text string
	_, err = pgx.ForEachRow(rows, []any{&unit, &text}, func() error {
		f, err := decimal.NewFromString(text)
		units[unit] = f
		return err
	})
	return units, err
}

// moveTransactions moves the transactions of item from to item into, their
// base quantities multiplied by factor and rounded as the column holds
// them, and the stock with them: from loses what they
// held, into gains what they hold now, so each item's stock stays the sum
// of its transactions.
func moveTransactions(ctx context.Context, tx pgx.Tx, account string, from, into int64, factor decimal.Decimal) (Moved, error) {
	out := Moved{Factor: factor.String()}
	// Rounded half to even, as an import rounds (round() of a numeric
	// rounds a half away from zero).
	err := tx.QueryRow(ctx, `WITH moved AS (
			UPDATE transactions AS t SET item_id = $3, base_quantity = CASE
				WHEN abs(o.x - trunc(o.x)) = 0.5 THEN (trunc(o.x) + abs(trunc(o.x)) % 2 * sign(o.x)) / 1000
				ELSE round(o.x / 1000, 3) END
			FROM (SELECT id, base_quantity, base_quantity * $4::numeric * 1000 AS x FROM transactions
			      WHERE account = $1 AND item_id = $2 FOR UPDATE) AS o
			WHERE t.account = $1 AND t.id = o.id
			RETURNING o.base_quantity AS was, t.base_quantity AS now)
		SELECT count(*), coalesce(sum(was), 0)::text, coalesce(sum(now), 0)::text FROM moved`,
		account, from, into, factor.String()).Scan(&out.Transactions, &out.Removed, &out.Added)
	if err != nil || out.Transactions == 0 {
		return out, err
	}
	_, err = tx.Exec(ctx, `UPDATE inventory_items AS i
		SET quantity = i.quantity + CASE WHEN i.id = $2 THEN -$4::numeric ELSE $5::numeric END
		WHERE i.account = $1 AND i.id IN ($2, $3)`, account, from, into, out.Removed, out.Added)
	return out, err
}
