//go:build unix

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
	"github.com/jackc/pgx/v5"
)

// Keys made by an earlier vocabulary are refused by imports and re-keyed
// by migrate, so that an upgrade neither orphans mappings nor duplicates
// items; two items that now normalize alike are kept apart and named.
func TestMigrateRekeysAnOlderVocabulary(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	// As version 1 of the vocabulary had stored them: "skin off" was two
	// words then. A second item whose name now normalizes like the first.
	conn, write := importUnder(t, cfg, "A-1,2026-05-04,Sysco,,Atlantic Salmon Fillet Skin Off,10,lb,9.50\n",
		`UPDATE normalizer SET version = 1`,
		`UPDATE inventory_items SET normalized_name = 'atlantic fillet off salmon skin'`,
		`UPDATE item_mappings SET key = 'atlantic fillet off salmon skin' WHERE key_kind = 'description'`,
		`INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ('default', 'Salmon Fillet Atlantic Skinless', 'skinless salmon old', 'lb')`)
	b := write("b.csv", "B-1,2026-05-05,Sysco,,ATLANTIC SALMON FILLET SKIN OFF,5,lb,9.50\n"+
		"B-1,2026-05-05,US Foods,,Atlantic Salmon Fillet Skin Off,3,lb,9.50\n")
	if p, code := runBin(t, cfg, "import", b); code != 1 || !strings.Contains(p.stderr.String(), "normalizer version 1") ||
		!strings.Contains(p.stderr.String(), "run `batchimport migrate`") {
		t.Fatalf("import against keys of version 1: exit %d, %s; want it refused, naming migrate", code, p.stderr.String())
	}
	p, code := runBin(t, cfg, "migrate")
	if code != 0 || !strings.Contains(p.stdout.String(), fmt.Sprintf("re-keyed from normalizer version 1 to %d: 1 items, 1 description mappings", mapping.Version())) ||
		!strings.Contains(p.stderr.String(), "now normalize alike") {
		t.Fatalf("migrate: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if p, code := runBin(t, cfg, "import", "--output", "json", b); code != 0 || p.summary(t)["items_created"] != 0.0 {
		t.Fatalf("b after migrate: exit %d, %v\n%s", code, p.summary(t), p.stderr.String())
	}
	checkStock(t, conn, map[string]string{"Atlantic Salmon Fillet Skin Off lb": "18.000", "Salmon Fillet Atlantic Skinless lb": "0.000"})
	if p, code := runBin(t, cfg, "migrate"); code != 0 || strings.Contains(p.stdout.String(), "re-keyed") {
		t.Errorf("migrate again: exit %d, %s; want nothing re-keyed", code, p.stdout.String())
	}
}

// Keys of version 2 read "1.5%" as "15%": migrate re-keys the item and the
// mapping made with it, and "Milk 15%" is then an item of its own.
func TestMigrateKeepsDecimalsApart(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn, write := importUnder(t, cfg, "M-1,2026-05-04,Dairyco,,Milk 1.5%,10,gal,3.50\n",
		`UPDATE normalizer SET version = 2`,
		`UPDATE inventory_items SET normalized_name = '15pct milk'`,
		`UPDATE item_mappings SET key = '15pct milk' WHERE key_kind = 'description'`)
	if p, code := runBin(t, cfg, "migrate"); code != 0 || !strings.Contains(p.stdout.String(), "1 items, 1 description mappings") {
		t.Fatalf("migrate: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	b := write("b.csv", "M-2,2026-05-05,Dairyco,,Milk 15%,4,gal,3.10\n"+
		"M-2,2026-05-05,Dairyco,,MILK 1.5 %,2,gal,3.50\n")
	if p, code := runBin(t, cfg, "import", "--output", "json", b); code != 0 || p.summary(t)["items_created"] != 1.0 {
		t.Fatalf("b after migrate: exit %d, %v\n%s", code, p.summary(t), p.stderr.String())
	}
	checkStock(t, conn, map[string]string{"Milk 1.5% gal": "12.000", "Milk 15% gal": "4.000"})
}

// importUnder imports lines, then runs queries that make the schema's keys
// what an older vocabulary stored; it returns a connection to the schema
// and a writer of input files.
func importUnder(t *testing.T, cfg store.Config, lines string, queries ...string) (*pgx.Conn, func(name, body string) string) {
	t.Helper()
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	write := func(name, body string) string { return writeLines(t, dir, name, body) }
	if p, code := runBin(t, cfg, "import", write("a.csv", lines)); code != 0 {
		t.Fatalf("a: exit %d\n%s", code, p.stderr.String())
	}
	for _, q := range queries {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return conn, write
}
