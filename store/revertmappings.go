package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
)

// usedMappings are mappings a reverted run stored that lines of other runs
// resolved through, as parallel arrays for unnest, each with the first of
// those runs.
type usedMappings struct {
	accounts, vendors, kinds, keys []string
	runs                           []int64
}

// mappingKey is an item_mappings key.
type mappingKey struct{ account, vendor, kind, key string }

// mappingsUsed finds the mappings run id stored that lines of other runs
// resolved through: a line of the mapping's item whose vendor and SKU, or
// vendor and description, key as the mapping does. Only the lines of the
// mappings' items are read, each spelling once.
func mappingsUsed(ctx context.Context, tx pgx.Tx, accounts []string, id int64, keys LineKeys) (usedMappings, error) {
	var used usedMappings
	rows, err := tx.Query(ctx, `SELECT account, vendor, key_kind, key, item_id FROM item_mappings
		WHERE account = ANY($1) AND run_id = $2`, accounts, id)
	if err != nil {
		return used, err
	}
	items := map[mappingKey]int64{}
	seen := map[int64]bool{}
	var ids []int64
	var k mappingKey
	var item int64
	if _, err := pgx.ForEachRow(rows, []any{&k.account, &k.vendor, &k.kind, &k.key, &item}, func() error {
		items[k] = item
		if !seen[item] {
			seen[item] = true
			ids = append(ids, item)
		}
		return nil
	}); err != nil || len(items) == 0 {
		return used, err
	}
	// By the items' index: the revert's session plans no nested loop,
	// and a join would read the accounts' every line.
	rows, err = tx.Query(ctx, `SELECT account, item_id, vendor, coalesce(vendor_sku, ''), description, min(run_id)
		FROM transactions WHERE account = ANY($1) AND item_id = ANY($3) AND run_id <> $2
		GROUP BY 1, 2, 3, 4, 5`, accounts, id, ids)
	if err != nil {
		return used, err
	}
	first := map[mappingKey]int64{}
	vendors := map[string]string{}
	var account, vendor, sku, desc string
	var run int64
	_, err = pgx.ForEachRow(rows, []any{&account, &item, &vendor, &sku, &desc, &run}, func() error {
		v, ok := vendors[vendor]
		if !ok {
			v = keys.Vendor(vendor)
			vendors[vendor] = v
		}
		for _, k := range []mappingKey{{account, v, "sku", strings.TrimSpace(sku)}, {account, v, "description", keys.Description(desc)}} {
			if k.key == "" || items[k] != item {
				continue
			}
			if r, ok := first[k]; !ok || run < r {
				first[k] = run
			}
		}
		return nil
	})
	for k, r := range first {
		used.accounts, used.vendors, used.kinds, used.keys = append(used.accounts, k.account), append(used.vendors, k.vendor), append(used.kinds, k.kind), append(used.keys, k.key)
		used.runs = append(used.runs, r)
	}
	return used, err
}
