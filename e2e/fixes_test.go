//go:build unix

package e2e

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// A run whose rejects, fixed, came home through a later run cannot be
// reverted alone (its source imported again would import them twice); the
// later run first, then it. The rejects of a reverted run no longer come
// home: its source is imported again instead.
func TestRevertWithRejectsThatCameHome(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	lines := "H1,2026-11-28,Sysco,S1,Cherry Tomato Red,10,lb,2.00\nH1,2026-11-28,Sysco,S2,Whole Milk 1 gal,x,gal,3.00\n"
	a := imported(t, cfg, 3, writeLines(t, dir, "a.csv", lines))
	rejects := readFile(t, a["rejects_file"].(string))
	fixed := imported(t, cfg, 0, writeCSV(t, dir, "fixed.csv", strings.Replace(rejects, ",x,", ",3,", 1)))
	p := bi(t, cfg, 1, "revert", runOf(a))
	if msg := p.stderr.String(); !strings.Contains(msg, "were imported by run "+runOf(fixed)) {
		t.Errorf("revert of a run whose fixed rejects came home: %q; want it refused naming run %s", msg, runOf(fixed))
	}
	bi(t, cfg, 0, "revert", runOf(fixed))
	bi(t, cfg, 0, "revert", runOf(a))
	// The reverted run's rejects file, fixed again, is refused line by line.
	again := imported(t, cfg, 1, writeCSV(t, dir, "fixed-again.csv", strings.Replace(rejects, ",x,", ",3,", 1)))
	if reasons := rejectReasons(t, again["rejects_file"].(string)); len(reasons) != 1 || !strings.Contains(reasons[0], "which was reverted") {
		t.Errorf("a reverted run's reject imported: %q", reasons)
	}
	// The source, fixed and imported again, comes in whole, once.
	whole := imported(t, cfg, 0, writeLines(t, dir, "a2.csv", strings.Replace(lines, ",x,", ",3,", 1)))
	countIs(t, conn, 2, `SELECT count(*) FROM transactions`)
	pgtest.CheckInvariant(t, conn, whole["source_key"].(string), []int{2, 3}, "")
}

// A merged name is no alias for another size of it; a description mapped
// anew takes the vendor's SKU mappings of its lines along.
func TestAliasesKeepSizesAndDescriptionsTakeTheirSKUs(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	imported(t, cfg, 0, writeLines(t, dir, "c1.csv", "C-1,2026-11-28,Sysco,C16,Cups 16 oz,1,cs,9.00\nC-1,2026-11-28,Acme,K16,Plastic Cup 16oz,1,cs,9.00\n"))
	bi(t, cfg, 0, "items", "merge", "Cups 16 oz", "Plastic Cup 16oz")
	s := imported(t, cfg, 0, writeLines(t, dir, "c2.csv", "C-2,2026-11-29,Zed,Z12,Cups 12 oz,1,cs,8.00\nC-2,2026-11-29,Zed,Z16,Cups 16 oz,1,cs,9.00\n"))
	if s["items_created"] != 1.0 {
		t.Errorf("Cups 12 oz after Cups 16 oz was merged: %v; want an item of its own, and Cups 16 oz the merged one", s)
	}
	listIs(t, conn, "Cups 12 oz=1 Plastic Cup 16oz=3", `SELECT i.name || '=' || count(*) FROM inventory_items i
		JOIN transactions t ON t.account = i.account AND t.item_id = i.id GROUP BY i.name ORDER BY i.name`)

	imported(t, cfg, 0, writeLines(t, dir, "m1.csv", "M-1,2026-11-28,Sysco,S1,Cherry Tomato Red,10,lb,2.00\nM-1,2026-11-28,Acme,A2,Grape Tomatoes,3,lb,2.00\n"))
	p := bi(t, cfg, 0, "mappings", "set", "SYSCO", "--description", "Cherry Tomato Red", "Grape Tomatoes", "--move-history")
	if !strings.Contains(p.stdout.String(), "SKU mappings too (S1)") {
		t.Errorf("mappings set of a description whose lines carry a SKU: %q; want the SKU mapping set too", p.stdout.String())
	}
	imported(t, cfg, 0, writeLines(t, dir, "m2.csv", "M-2,2026-11-29,SYSCO,S1,Cherry Tomato Red,7,lb,2.00\n"))
	listIs(t, conn, "Grape Tomatoes=20.000", `SELECT name || '=' || quantity FROM inventory_items WHERE name LIKE '%Tomato%' AND quantity <> 0 ORDER BY name`)
	pgtest.CheckQuantities(t, conn)
}

func runOf(summary map[string]any) string {
	return strconv.FormatFloat(summary["run_id"].(float64), 'f', 0, 64)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readCSV reads a CSV file's records, its header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}
