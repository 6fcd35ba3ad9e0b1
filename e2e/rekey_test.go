//go:build unix

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// Keys made by an earlier vocabulary are refused by imports and re-keyed
// by migrate, so that an upgrade neither orphans mappings nor duplicates
// items; two items that now normalize alike are kept apart and named.
func TestMigrateRekeysAnOlderVocabulary(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string { return writeLines(t, dir, name, body) }
	if p, code := runBin(t, cfg, "import", write("a.csv", "A-1,2026-05-04,Sysco,,Atlantic Salmon Fillet Skin Off,10,lb,9.50\n")); code != 0 {
		t.Fatalf("a: exit %d\n%s", code, p.stderr.String())
	}
	// As version 1 of the vocabulary had stored them: "skin off" was two
	// words then. A second item whose name now normalizes like the first.
	for _, q := range []string{
		`UPDATE normalizer SET version = 1`,
		`UPDATE inventory_items SET normalized_name = 'atlantic fillet off salmon skin'`,
		`UPDATE item_mappings SET key = 'atlantic fillet off salmon skin' WHERE key_kind = 'description'`,
		`INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ('default', 'Salmon Fillet Atlantic Skinless', 'skinless salmon old', 'lb')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	b := write("b.csv", "B-1,2026-05-05,Sysco,,ATLANTIC SALMON FILLET SKIN OFF,5,lb,9.50\n"+
		"B-1,2026-05-05,US Foods,,Atlantic Salmon Fillet Skin Off,3,lb,9.50\n")
	if p, code := runBin(t, cfg, "import", b); code != 1 || !strings.Contains(p.stderr.String(), "normalizer version 1") ||
		!strings.Contains(p.stderr.String(), "run `batchimport migrate`") {
		t.Fatalf("import against keys of version 1: exit %d, %s; want it refused, naming migrate", code, p.stderr.String())
	}
	p, code := runBin(t, cfg, "migrate")
	if code != 0 || !strings.Contains(p.stdout.String(), "re-keyed from normalizer version 1 to 2: 1 items, 1 description mappings") ||
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
