package store_test

import (
	"context"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// Two proposed new items of the same name and other sizes, accepted
// together, are two items.
func TestAcceptNewItemsOfTwoSizes(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	r := mapping.NewResolver(nil, nil, mapping.Options{FuzzyThreshold: mapping.DefaultFuzzyThreshold, ReviewNew: true})
	if _, err := conn.Exec(ctx, `INSERT INTO import_runs (id, source_key, source_name, account, status) VALUES (1, 'k', 'x.csv', 'default', 'success')`); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"Cups 12 oz", "Cups 16 oz"} {
		res, err := r.Resolve(mapping.Line{Vendor: "Sysco", Description: d})
		if err != nil || !res.Review {
			t.Fatalf("%s: %+v, %v", d, res, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO mapping_proposals (account, vendor, vendor_name, key, description, new_name, new_key, new_unit, run_id)
			VALUES ('default', $1, 'Sysco', $2, $3, $3, $4, 'ea', 1)`, mapping.NormalizeVendor("Sysco"), res.Key, d, res.Item.Normalized); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	ps, err := db.Proposals(ctx, "default", "pending")
	if err != nil || len(ps) != 2 {
		t.Fatalf("proposals %v, %v", ps, err)
	}
	done, _, err := db.Decide(ctx, store.Correction{Command: "mappings accept"}, "default", []int64{ps[0].ID, ps[1].ID}, true)
	if err != nil {
		t.Fatal(err)
	}
	if *done[0].ItemID == *done[1].ItemID {
		t.Errorf("Cups 12 oz and Cups 16 oz were both mapped to item %d", *done[0].ItemID)
	}
}

// chain is a vocabulary under which x becomes y and y becomes z.
type chain struct{}

func (chain) Version() int { return 99 }
func (chain) ItemKey(_, old string) string {
	switch old {
	case "x":
		return "y"
	case "y":
		return "z"
	}
	return old
}
func (chain) DescriptionKey(old string) string { return chain{}.ItemKey("", old) }

// Re-keying does not depend on the order of items: a key that moves frees
// its place for another that moves into it.
func TestRekeyAChain(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO inventory_items (account, id, name, normalized_name) VALUES ('default', 1, 'A', 'x'), ('default', 2, 'B', 'y')`,
		`INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method) VALUES ('default', 'v', 'description', 'x', 1, 'manual'), ('default', 'v', 'description', 'y', 2, 'manual')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	rk, err := db.Rekey(ctx, chain{})
	if err != nil || len(rk.Alike) != 0 || rk.Items != 2 || rk.Mappings != 2 || rk.Dropped != 0 {
		t.Fatalf("rekey: %+v, %v", rk, err)
	}
	var items, maps string
	if err := conn.QueryRow(ctx, `SELECT (SELECT string_agg(id || '=' || normalized_name, ' ' ORDER BY id) FROM inventory_items),
		(SELECT string_agg(item_id || '=' || key, ' ' ORDER BY item_id) FROM item_mappings)`).Scan(&items, &maps); err != nil {
		t.Fatal(err)
	}
	if items != "1=y 2=z" || maps != "1=y 2=z" {
		t.Errorf("items %q, mappings %q; want 1=y 2=z for both", items, maps)
	}
}
