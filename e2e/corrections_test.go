//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// Corrections (SPEC §14): revert, items merge, mappings set|export|apply.
// After each sequence, stock is the exact sum of base quantities and every
// record of every source is in transactions, in rejects, or in a reverted
// run.

// A run reverted (after a dry run that changes nothing) loses its rows,
// their stock, its invoices and what it created; reverting it again does
// nothing; its file can then be imported again, as a new run.
func TestRevertRun(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	base := imported(t, cfg, 0, writeLines(t, dir, "base.csv", "A-1,2026-05-04,US Foods,,Green Onions,5,ea,1.00\n"))
	may := writeLines(t, dir, "may.csv", `B-1,2026-05-04,Sysco,,Green Onions,3,ea,1.00
B-1,2026-05-04,Sysco,,Basmati Rice,2.5,kg,3.00
B-2,2026-05-05,Sysco,,Jasmine Rice,4,kg,2.00
B-2,2026-05-05,Sysco,,Jasmine Rice,0,kg,2.00
`)
	s := imported(t, cfg, 3, may)
	run := int64(s["run_id"].(float64))
	if s["rows_imported"] != 3.0 || s["items_created"] != 2.0 {
		t.Fatalf("may: %v; want 3 lines imported, 2 items created", s)
	}
	sources := map[string][]int{base["source_key"].(string): {2}, s["source_key"].(string): {2, 3, 4, 5}}
	accounted(t, conn, sources)

	before := pgtest.Snapshot(t, conn)
	dry := bi(t, cfg, 0, "revert", fmt.Sprint(run), "--dry-run", "--output", "json").summary(t)
	if r := dry["result"].(map[string]any); dry["dry_run"] != true || dry["correction_id"] != 0.0 || r["transactions_removed"] != 3.0 || r["items_removed"] != 2.0 {
		t.Errorf("revert --dry-run: %v", dry)
	}
	unchanged(t, conn, before, "revert --dry-run")

	out := bi(t, cfg, 0, "revert", fmt.Sprint(run), "--output", "json").summary(t)
	want := map[string]any{"run_id": float64(run), "source": may, "was_status": "partial_success", "already_reverted": false,
		"transactions_removed": 3.0, "items_restocked": 3.0, "items_removed": 2.0, "mappings_removed": 3.0,
		"invoices_freed": 2.0, "rejects_reopened": 0.0}
	if fmt.Sprint(out["result"]) != fmt.Sprint(want) || out["dry_run"] != false {
		t.Errorf("revert:\n got %v\nwant result %v", out, want)
	}
	countIs(t, conn, 0, `SELECT count(*) FROM transactions WHERE run_id = $1`, run)
	checkStock(t, conn, map[string]string{"Green Onions ea": "5.000"}) // the rice items it created are gone
	if st := runStatus(t, conn, run); st != "reverted" {
		t.Errorf("run %d is %q, want reverted", run, st)
	}
	countIs(t, conn, 1, `SELECT count(*) FROM item_mappings`) // the base run's
	countIs(t, conn, 0, `SELECT count(*) FROM invoices WHERE run_id = $1`, run)
	countIs(t, conn, 1, `SELECT count(*) FROM rejects WHERE run_id = $1`, run) // its rejects stay
	audit := `SELECT count(*) FROM corrections WHERE command = 'revert' AND details->'args'->>0 = $1`
	countIs(t, conn, 1, audit, fmt.Sprint(run))
	countIs(t, conn, int64(out["correction_id"].(float64)), `SELECT max(id) FROM corrections`)
	accounted(t, conn, sources)

	// Again: nothing to do, nothing recorded.
	again := bi(t, cfg, 0, "revert", fmt.Sprint(run), "--output", "json").summary(t)
	if r := again["result"].(map[string]any); r["already_reverted"] != true || again["correction_id"] != 0.0 {
		t.Errorf("revert again: %v; want already reverted", again)
	}
	if p := bi(t, cfg, 0, "revert", fmt.Sprint(run)); !strings.Contains(p.stdout.String(), "already reverted") {
		t.Errorf("revert again, text: %q", p.stdout.String())
	}
	countIs(t, conn, 1, audit, fmt.Sprint(run))

	// The same file again: a new run imports every line.
	s2 := imported(t, cfg, 3, may)
	if s2["run_id"] == float64(run) || s2["rows_imported"] != 3.0 || s2["rows_rejected"] != 1.0 || s2["items_created"] != 2.0 {
		t.Fatalf("may again after the revert: %v; want a new run importing its 3 good lines", s2)
	}
	checkStock(t, conn, map[string]string{"Green Onions ea": "8.000", "Basmati Rice kg": "2.500", "Jasmine Rice kg": "4.000"})
	accounted(t, conn, sources)
}

// A run's mappings that lines of a later run resolved through stay when it
// is reverted, the later run's (SPEC §14: what nothing else uses goes);
// the others go. Reverting that later run then removes them.
func TestRevertKeepsMappingsLaterRunsUsed(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	first := imported(t, cfg, 0, writeLines(t, dir, "first.csv", `A-1,2026-05-04,Sysco,S1,Green Onions,5,ea,1.00
A-1,2026-05-04,Sysco,,Basmati Rice,2,kg,3.00
`))
	// Another spelling of the vendor, the same SKU and description.
	later := imported(t, cfg, 0, writeLines(t, dir, "later.csv", "A-2,2026-05-05,SYSCO ,S1,Green Onions,3,ea,1.00\n"))
	if first["items_created"] != 2.0 || later["items_created"] != 0.0 {
		t.Fatalf("first %v, later %v: want two items, created by the first", first, later)
	}
	firstRun, laterRun := int64(first["run_id"].(float64)), int64(later["run_id"].(float64))
	mapped := count(t, conn, `SELECT count(*) FROM item_mappings m JOIN inventory_items i ON i.account = m.account AND i.id = m.item_id
		WHERE i.name = 'Green Onions'`)
	if mapped == 0 || count(t, conn, `SELECT count(*) FROM item_mappings WHERE run_id = $1`, firstRun) <= mapped {
		t.Fatalf("the first run stored %d mappings to Green Onions; want some, and one to Basmati Rice", mapped)
	}

	out := bi(t, cfg, 0, "revert", fmt.Sprint(firstRun), "--output", "json").summary(t)
	if r := out["result"].(map[string]any); r["mappings_removed"] != 1.0 || r["items_removed"] != 1.0 {
		t.Errorf("revert the first run: %v; want Basmati Rice and its mapping removed", out)
	}
	countIs(t, conn, mapped, `SELECT count(*) FROM item_mappings WHERE run_id = $1`, laterRun)
	countIs(t, conn, mapped, `SELECT count(*) FROM item_mappings`)
	checkStock(t, conn, map[string]string{"Green Onions ea": "3.000"})
	next := imported(t, cfg, 0, writeLines(t, dir, "next.csv", "A-3,2026-05-06,Sysco,S1,Green Onions,2,ea,1.00\n"))
	if next["items_created"] != 0.0 {
		t.Errorf("next: %v; want the line resolved to the item", next)
	}
	checkStock(t, conn, map[string]string{"Green Onions ea": "5.000"})

	// The next run used them too: reverting the later one keeps them, the
	// next run's now; reverting that one too removes them.
	out = bi(t, cfg, 0, "revert", fmt.Sprint(laterRun), "--output", "json").summary(t)
	if r := out["result"].(map[string]any); r["mappings_removed"] != 0.0 {
		t.Errorf("revert the later run: %v; want its mappings kept", out)
	}
	out = bi(t, cfg, 0, "revert", fmt.Sprint(next["run_id"]), "--output", "json").summary(t)
	if r := out["result"].(map[string]any); r["mappings_removed"] != float64(mapped) {
		t.Errorf("revert the next run: %v; want its %d mappings removed", out, mapped)
	}
	countIs(t, conn, 0, `SELECT count(*) FROM item_mappings`)
	checkStock(t, conn, map[string]string{"Green Onions ea": "0.000"})
}

// A file imported, then imported again with --force, then its first run
// reverted: the invoices pass to the forced run, which still holds their
// lines, and the same invoice re-sent is a duplicate of it, not stock
// counted twice.
func TestRevertHandsInvoicesToAForcedRun(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	line := "F-1,2026-05-04,Sysco,,Green Onions,5,ea,1.00\n"
	first := imported(t, cfg, 0, writeLines(t, dir, "f.csv", line))
	forced := bi(t, cfg, 0, "import", "--force", "--output", "json", filepath.Join(dir, "f.csv")).summary(t)
	bi(t, cfg, 0, "revert", fmt.Sprint(first["run_id"]))
	countIs(t, conn, 1, `SELECT count(*) FROM invoices WHERE run_id = $1`, int64(forced["run_id"].(float64)))
	p := bi(t, cfg, 1, "import", "--output", "json", writeLines(t, dir, "f-resent.csv", line+"\n"))
	if s := p.summary(t); s["status"] != "rejected" || !strings.Contains(s["error"].(string), "duplicate invoice") {
		t.Errorf("the invoice re-sent: %v; want it rejected as the forced run's", s)
	}
	checkStock(t, conn, map[string]string{"Green Onions ea": "5.000"})
}

// A wrong fuzzy match fixed with mappings set --create --move-history: the
// vendor's lines of that description move with their stock, other vendors'
// stay, and the next line of the vendor resolves to the new item.
func TestMappingsSetFixesFuzzyMatch(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	base := imported(t, cfg, 0, writeLines(t, dir, "base.csv", "A-1,2026-05-04,US Foods,,Chicken Thighs Boneless,30,lb,2.49\n"))
	thighs := itemID(t, conn, "Chicken Thighs Boneless")
	june := imported(t, cfg, 0, writeLines(t, dir, "june.csv", `B-1,2026-06-02,Sysco,,Chicken Thighs Boneless IQF,12,lb,2.49
B-1,2026-06-02,Sysco,,Chicken Thighs Boneless IQF,3.5,lb,2.49
B-1,2026-06-02,US Foods,,Chicken Thighs Boneless IQF,7,lb,2.49
B-1,2026-06-02,US Foods,,Chicken Thighs Boneless,2,lb,2.49
`))
	if june["items_created"] != 0.0 || june["fuzzy_matches"] == 0.0 {
		t.Fatalf("june: %v; want the IQF lines matched fuzzily", june)
	}
	fuzzy := jsonLines(t, bi(t, cfg, 0, "mappings", "list", "--method", "fuzzy", "--output", "json"))
	if len(fuzzy) != 2 || fuzzy[0]["vendor"] != "sysco" || fuzzy[1]["vendor"] != "us foods" ||
		fuzzy[0]["item_id"] != float64(thighs) || fuzzy[0]["key"] != "boneless chicken iqf thigh" {
		t.Fatalf("fuzzy mappings: %v", fuzzy)
	}
	if l := jsonLines(t, bi(t, cfg, 0, "mappings", "list", "--vendor", "SYSCO", "--output", "json")); len(l) != 1 {
		t.Errorf("mappings list --vendor SYSCO: %v; want Sysco's one mapping", l)
	}

	out := bi(t, cfg, 0, "mappings", "set", "SYSCO", "--description", "Chicken Thighs Boneless IQF",
		"Chicken Thighs Boneless IQF", "--create", "--move-history", "--output", "json").summary(t)
	iqf := itemID(t, conn, "Chicken Thighs Boneless IQF")
	sets, _ := out["result"].([]any)
	want := fmt.Sprint(map[string]any{"vendor": "sysco", "key_kind": "description", "key": "boneless chicken iqf thigh",
		"was_item_id": float64(thighs), "item_id": float64(iqf), "item_created": true,
		"history_moved": map[string]any{"transactions": 2.0, "quantity_from": "15.500", "quantity_into": "15.500"}})
	if len(sets) != 1 || fmt.Sprint(sets[0]) != want {
		t.Errorf("mappings set:\n got %v\nwant [%s]", out["result"], want)
	}
	checkStock(t, conn, map[string]string{"Chicken Thighs Boneless lb": "39.000", "Chicken Thighs Boneless IQF lb": "15.500"})
	countIs(t, conn, 3, `SELECT count(*) FROM transactions WHERE vendor = 'US Foods' AND item_id = $1`, thighs) // stay
	countIs(t, conn, 1, `SELECT count(*) FROM corrections WHERE command = 'mappings set'`)
	listIs(t, conn, fmt.Sprintf("sysco/manual=%d us foods/fuzzy=%d us foods/created=%d", iqf, thighs, thighs),
		`SELECT vendor || '/' || method || '=' || item_id FROM item_mappings ORDER BY vendor, key`)

	july := imported(t, cfg, 0, writeLines(t, dir, "july.csv", "C-1,2026-07-01,Sysco,,Chicken Thighs Boneless IQF,1,lb,2.49\n"))
	if july["items_created"] != 0.0 || july["fuzzy_matches"] != 0.0 {
		t.Errorf("july: %v; want the line resolved by the manual mapping", july)
	}
	checkStock(t, conn, map[string]string{"Chicken Thighs Boneless lb": "39.000", "Chicken Thighs Boneless IQF lb": "16.500"})
	accounted(t, conn, map[string][]int{base["source_key"].(string): {2}, june["source_key"].(string): {2, 3, 4, 5}, july["source_key"].(string): {2}})
}

// Two items of one product, named differently by two vendors, merged: a
// third vendor's line naming the merged item resolves to the one kept.
func TestMergeDuplicateItems(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	a := imported(t, cfg, 0, writeLines(t, dir, "a.csv", "A-1,2026-05-04,US Foods,,Green Onions,3,ea,1.00\n"))
	b := imported(t, cfg, 0, writeLines(t, dir, "b.csv", "B-1,2026-05-04,Sysco,,Scallions,2,ea,1.00\n"))
	if a["items_created"] != 1.0 || b["items_created"] != 1.0 {
		t.Fatalf("a %v, b %v: want an item each", a, b)
	}
	onions := itemID(t, conn, "Green Onions")
	out := bi(t, cfg, 0, "items", "merge", "scallions", fmt.Sprint(onions), "--output", "json").summary(t)
	r := out["result"].(map[string]any)
	if fmt.Sprint(r["moved"]) != fmt.Sprint(map[string]any{"transactions": 1.0, "factor": "1", "quantity_from": "2.000", "quantity_into": "2.000"}) ||
		r["mappings_moved"] != 1.0 || r["aliases"] != 1.0 || r["from"].(map[string]any)["name"] != "Scallions" || r["into"].(map[string]any)["id"] != float64(onions) {
		t.Errorf("merge: %v", out)
	}
	checkStock(t, conn, map[string]string{"Green Onions ea": "5.000"})
	countIs(t, conn, 1, `SELECT count(*) FROM corrections WHERE command = 'items merge'`)
	c := imported(t, cfg, 0, writeLines(t, dir, "c.csv", "C-1,2026-05-06,Gordon Food Service,,Scallions,4,ea,1.00\nC-2,2026-05-06,Sysco,,Scallions,1,ea,1.00\n"))
	if c["items_created"] != 0.0 || c["fuzzy_matches"] != 0.0 {
		t.Errorf("c: %v; want Scallions resolved to item %d", c, onions)
	}
	countIs(t, conn, 1, `SELECT count(*) FROM inventory_items`)
	checkStock(t, conn, map[string]string{"Green Onions ea": "10.000"})
	accounted(t, conn, map[string][]int{a["source_key"].(string): {2}, b["source_key"].(string): {2}, c["source_key"].(string): {2, 3}})
}

// A correction converts as an import does. A line moved by mappings set
// --move-history is converted again from its quantity, unit and pack as
// read: not by the pack size of the item it went to wrongly. A merge
// rounds a half to even, as an import does.
func TestCorrectionsConvertAsImportsDo(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	a := imported(t, cfg, 0, writeLines(t, dir, "a.csv", `A-1,2026-05-04,US Foods,T10,Roma Tomatoes 25lb,2,cs,30.00
A-1,2026-05-04,US Foods,T11,Roma Tomatoes 10lb,1,cs,12.00
A-1,2026-05-04,US Foods,,Saffron Threads,0.04,oz,9.00
A-1,2026-05-04,US Foods,,Spanish Saffron,1,lb,900.00
`))
	// TOMATO ROMA mapped, wrongly, to the 25 lb case: 3 cs are 75 lb.
	bi(t, cfg, 0, "mappings", "set", "US Foods", "--sku", "T12", "Roma Tomatoes 25lb")
	b := imported(t, cfg, 0, writeLines(t, dir, "b.csv", "B-1,2026-05-05,US Foods,T12,TOMATO ROMA,3,cs,30.00\n"))
	stock := map[string]string{"Roma Tomatoes 25lb lb": "125.000", "Roma Tomatoes 10lb lb": "10.000", "Saffron Threads oz": "0.040", "Spanish Saffron lb": "1.000"}
	checkStock(t, conn, stock)
	out := bi(t, cfg, 0, "mappings", "set", "US Foods", "--sku", "T12", "Roma Tomatoes 10lb", "--move-history", "--output", "json").summary(t)
	if m := fmt.Sprint(out["result"].([]any)[0].(map[string]any)["history_moved"]); m != fmt.Sprint(map[string]any{"transactions": 1.0, "quantity_from": "75.000", "quantity_into": "30.000"}) {
		t.Errorf("moved %s; want 3 cs of 10 lb", m)
	}
	stock["Roma Tomatoes 25lb lb"], stock["Roma Tomatoes 10lb lb"] = "50.000", "40.000"
	checkStock(t, conn, stock)

	// 0.04 oz are 0.0025 lb: 0.002, as an import of it into a pound makes.
	out = bi(t, cfg, 0, "items", "merge", "Saffron Threads", "Spanish Saffron", "--output", "json").summary(t)
	if m := fmt.Sprint(out["result"].(map[string]any)["moved"]); m != fmt.Sprint(map[string]any{"transactions": 1.0, "factor": "0.0625", "quantity_from": "0.040", "quantity_into": "0.002"}) {
		t.Errorf("merge moved %s; want 0.002 lb", m)
	}
	c := imported(t, cfg, 0, writeLines(t, dir, "c.csv", "C-1,2026-05-06,US Foods,,Spanish Saffron,0.04,oz,9.00\n"))
	delete(stock, "Saffron Threads oz")
	stock["Spanish Saffron lb"] = "1.004"
	checkStock(t, conn, stock)
	pgtest.CheckQuantities(t, conn)
	accounted(t, conn, map[string][]int{a["source_key"].(string): {2, 3, 4, 5}, b["source_key"].(string): {2}, c["source_key"].(string): {2}})
}

// A source whose first run stands is imported, whatever runs of it with
// --force were reverted since: imported again, it is skipped, not read
// again for every row to be rejected as a duplicate of that run.
func TestSourceStandsAfterARevertedForcedRun(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	path := writeLines(t, t.TempDir(), "fr.csv", `FR-1,2026-01-05,Acme,,Widget One,1,ea,1.25
FR-2,2026-01-05,Acme,,Widget Two,2,ea,1.25
`)
	first := imported(t, cfg, 0, path)
	forced := imported(t, cfg, 0, path, "--force")
	bi(t, cfg, 0, "revert", fmt.Sprint(forced["run_id"]))
	again := imported(t, cfg, 0, path)
	if again["status"] != "skipped" || again["run_id"] != first["run_id"] {
		t.Errorf("imported again: %v; want skipped, as imported by run %v", again, first["run_id"])
	}
	checkStock(t, conn, map[string]string{"Widget One ea": "1.000", "Widget Two ea": "2.000"})
	accounted(t, conn, map[string][]int{first["source_key"].(string): {2, 3}})
}

// A line read without a unit, in its first item's base unit, moves by
// its base quantity: after a merge into an item of another base unit, a
// move of its history converts that, not its quantity as read.
func TestMovedLineWithoutUnitKeepsWhatItWas(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	w := imported(t, cfg, 0, writeLines(t, dir, "w.csv", `W-1,2026-05-01,US Foods,,Widget Alpha,1,lb,1
W-1,2026-05-01,US Foods,,Widget Alpha,10,,1
`))
	g := imported(t, cfg, 0, writeLines(t, dir, "g.csv", `G-1,2026-05-01,Sysco,,Gadget Beta,1,kg,1
G-1,2026-05-01,Sysco,,Zeta Gamma,1,kg,1
`))
	bi(t, cfg, 0, "items", "merge", "Widget Alpha", "Gadget Beta")
	listIs(t, conn, "0.454 4.536", `SELECT base_quantity::text FROM transactions WHERE description = 'Widget Alpha' ORDER BY line_no`)
	bi(t, cfg, 0, "mappings", "set", "U.S. Foods", "--description", "Widget Alpha", "Zeta Gamma", "--move-history")
	// 10 lb are 4.536 kg wherever the line goes, not 10 kg.
	listIs(t, conn, "0.454 4.536", `SELECT base_quantity::text FROM transactions WHERE description = 'Widget Alpha' ORDER BY line_no`)
	checkStock(t, conn, map[string]string{"Gadget Beta kg": "1.000", "Zeta Gamma kg": "5.990"})
	pgtest.CheckQuantities(t, conn)
	accounted(t, conn, map[string][]int{w["source_key"].(string): {2, 3}, g["source_key"].(string): {2, 3}})
}

// A merge converts FROM's transactions into INTO's base unit, each rounded
// to 0.001; without a conversion it is refused, naming units set, and
// changes nothing.
func TestMergeConvertsUnits(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	s := imported(t, cfg, 0, writeLines(t, dir, "flour.csv", `A-1,2026-05-04,Sysco,,Sir Galahad Flour,1,lb,1.00
A-1,2026-05-04,Sysco,,Sir Galahad Flour,1,lb,1.00
A-1,2026-05-04,Sysco,,Sir Galahad Flour,1,lb,1.00
A-1,2026-05-04,Sysco,,Sir Galahad Flour,10,lb,1.00
A-1,2026-05-04,US Foods,,Bread Flour,2,kg,1.00
A-1,2026-05-04,US Foods,,Bread Flour,1.5,kg,1.00
A-1,2026-05-04,Sysco,,Jasmine Rice,2,bag,20.00
A-1,2026-05-04,US Foods,,Basmati Rice,1,kg,3.00
`))
	out := bi(t, cfg, 0, "items", "merge", "Sir Galahad Flour", "bread flour", "--output", "json").summary(t)
	// 3 × round(0.45359237, 3) + round(4.5359237, 3): 1.362 + 4.536, not round(13 lb) = 5.897.
	if m := fmt.Sprint(out["result"].(map[string]any)["moved"]); m != fmt.Sprint(map[string]any{"transactions": 4.0,
		"factor": "0.45359237", "quantity_from": "13.000", "quantity_into": "5.898"}) {
		t.Errorf("merge moved %s", m)
	}
	listIs(t, conn, "0.454 0.454 0.454 4.536", `SELECT base_quantity::text FROM transactions WHERE unit = 'lb' ORDER BY line_no`)
	stock := map[string]string{"Bread Flour kg": "9.398", "Jasmine Rice bag": "2.000", "Basmati Rice kg": "1.000"}
	checkStock(t, conn, stock)
	pgtest.CheckQuantities(t, conn)

	// No conversion of bag into kg: refused, nothing changed.
	basmati := itemID(t, conn, "Basmati Rice")
	before := pgtest.Snapshot(t, conn)
	p := bi(t, cfg, 1, "items", "merge", "Jasmine Rice", "Basmati Rice")
	if msg := p.stderr.String(); !strings.Contains(msg, fmt.Sprintf("batchimport units set %d bag FACTOR", basmati)) {
		t.Errorf("merge without a conversion: %q; want it to name units set", msg)
	}
	unchanged(t, conn, before, "a refused merge")
	// With the conversion the message names, it merges.
	bi(t, cfg, 0, "units", "set", fmt.Sprint(basmati), "bag", "4.5")
	bi(t, cfg, 0, "items", "merge", "Jasmine Rice", "Basmati Rice")
	delete(stock, "Jasmine Rice bag")
	stock["Basmati Rice kg"] = "10.000"
	checkStock(t, conn, stock)
	accounted(t, conn, map[string][]int{s["source_key"].(string): {2, 3, 4, 5, 6, 7, 8, 9}})
}

// A merge does not move a conversion of a unit that the item kept
// converts into by definition: FROM's "1 kg = 0.1 cs" would make INTO,
// counted in pounds, read a kilogram as 2.5 lb.
func TestMergeKeepsStandardConversions(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	u := imported(t, cfg, 0, writeLines(t, dir, "u.csv", `A-1,2026-05-01,US Foods,,Widget Alpha,3,lb,1
A-1,2026-05-01,US Foods,,Crate Thing,2,cs,1
`))
	bi(t, cfg, 0, "units", "set", "Crate Thing", "kg", "0.1")
	bi(t, cfg, 0, "units", "set", "Crate Thing", "bag", "2")
	bi(t, cfg, 0, "units", "set", "Widget Alpha", "cs", "25")
	out := bi(t, cfg, 0, "items", "merge", "Crate Thing", "Widget Alpha", "--output", "json").summary(t)
	if n := out["result"].(map[string]any)["unit_conversions_moved"]; n != 1.0 {
		t.Errorf("merge moved %v unit conversions, want 1: the bag's", n)
	}
	listIs(t, conn, "bag 50 cs 25", `SELECT unit || ' ' || factor::text FROM item_units ORDER BY unit`)
	u2 := imported(t, cfg, 0, writeLines(t, dir, "u2.csv", "A-2,2026-05-02,US Foods,,Widget Alpha,1,kg,1\n"))
	checkStock(t, conn, map[string]string{"Widget Alpha lb": "55.205"})
	pgtest.CheckQuantities(t, conn)
	accounted(t, conn, map[string][]int{u["source_key"].(string): {2, 3}, u2["source_key"].(string): {2}})
}

// An import that reverts its own run past --max-rejects keeps the items
// and mappings it created while another import of the account runs: that
// one may have resolved lines to them, and its rows would be refused for
// want of their item. With no other import running, they go.
func TestMaxRejectsKeepsItemsAnotherImportMayUse(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	other := pgtest.Conn(t, cfg)
	ctx := context.Background()
	dir := t.TempDir()
	file := func(name, item string) string {
		var b strings.Builder
		for i := range 10 {
			fmt.Fprintf(&b, "%s-%d,2026-05-01,Sysco,,%s,1,lb,1\n", name, i, item)
		}
		for i := range 5 {
			fmt.Fprintf(&b, "%s-X%d,2026-05-01,Sysco,,%s,lots,lb,1\n", name, i, item)
		}
		return writeLines(t, dir, name+".csv", b.String())
	}
	args := []string{"--max-rejects", "2", "--writers", "1", "--chunk-size", "5", "--chunks-per-commit", "1"}
	// Another import of the account runs: it holds the account's lock shared.
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock_shared(hashtext('batchimport account ' || $1), hashtext('default'))`, cfg.Schema); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, append(append([]string{"import", "--output", "json"}, args...), file("A", "Unique Item Q"))...)
	if s := p.summary(t); code != 1 || s["reverted"] != true {
		t.Fatalf("past --max-rejects: exit %d, summary %v; want it reverted\n%s", code, s, outputs(p))
	}
	if !strings.Contains(p.stderr.String(), "the items and mappings the run created are kept") {
		t.Errorf("a revert that kept the run's items did not say so:\n%s", p.stderr.String())
	}
	listIs(t, conn, "Unique Item Q 0.000 1", `SELECT i.name || ' ' || i.quantity || ' ' || count(m.*) FROM inventory_items i
		LEFT JOIN item_mappings m ON m.account = i.account AND m.item_id = i.id GROUP BY i.account, i.id`)
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock_shared(hashtext('batchimport account ' || $1), hashtext('default'))`, cfg.Schema); err != nil {
		t.Fatal(err)
	}
	// Alone, a run reverted so takes its items and mappings with it, its
	// writers' own connections holding no lock of the account.
	args[3], args[7] = "2", "2" // --writers 2 --chunks-per-commit 2
	if _, code := runBin(t, cfg, append(append([]string{"import", "--output", "json"}, args...), file("B", "Other Item Z"))...); code != 1 {
		t.Fatalf("past --max-rejects: exit %d, want 1", code)
	}
	listIs(t, conn, "Unique Item Q", `SELECT name FROM inventory_items`)
	listIs(t, conn, "1", `SELECT count(*)::text FROM item_mappings`)
	pgtest.CheckQuantities(t, conn)
}

// A correction of an account whose import is running is refused at once,
// naming the import, and changes nothing; with --wait it waits for the
// import to end, then succeeds. Another account's correction goes ahead.
func TestCorrectionWhileImporting(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	lines := "A-1,2026-05-04,US Foods,,Chicken Thighs Boneless,30,lb,2.49\nA-1,2026-05-04,US Foods,,Green Onions,3,ea,1.00\nA-2,2026-05-04,Sysco,,Scallions,2,ea,1.00\n"
	base := imported(t, cfg, 0, writeLines(t, dir, "base.csv", lines))
	other := imported(t, cfg, 0, writeLines(t, dir, "other.csv", strings.ReplaceAll(lines, "A-", "O-")), "--account", "other")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := startWith(t, cfg, r, "import", "--format", "csv", "--chunk-size", "1", "--source-id", "slow-june", "--rejects", filepath.Join(dir, "slow.rejects.csv"), "--output", "json", "-")
	r.Close()
	write := func(s string) {
		if _, err := w.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	write("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n" +
		"B-1,2026-06-02,Sysco,,Chicken Thighs Boneless IQF,12,lb,2.49\nB-1,2026-06-02,US Foods,,Green Onions,1,ea,1.00\n")
	// Both lines committed, and the import waits for more.
	var run int64
	for deadline := time.Now().Add(time.Minute); run == 0; time.Sleep(10 * time.Millisecond) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the import ended (exit %d) or stalled before its checkpoint:\n%s%s", p.code, p.stdout.String(), p.stderr.String())
		}
		_ = conn.QueryRow(context.Background(), `SELECT id FROM runs WHERE status = 'running' AND checkpoint_line >= 3`).Scan(&run)
	}
	before := pgtest.Snapshot(t, conn)
	set := []string{"mappings", "set", "Sysco", "--description", "Chicken Thighs Boneless IQF", "Chicken Thighs Boneless IQF", "--create", "--move-history"}
	for _, args := range [][]string{set, {"items", "merge", "Scallions", "Green Onions"}} {
		q := bi(t, cfg, 1, args...)
		if msg := q.stderr.String(); !strings.Contains(msg, "is running") || !strings.Contains(msg, fmt.Sprintf("[%d]", run)) {
			t.Errorf("%v while run %d imports: %q; want it refused naming the run", args, run, msg)
		}
	}
	unchanged(t, conn, before, "a refused correction", "import_runs") // which the running import may touch
	// Another account is not held up.
	began := time.Now()
	bi(t, cfg, 0, "items", "merge", "Scallions", "Green Onions", "--account", "other")
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("a correction of another account took %s", d)
	}

	waiting := start(t, cfg, append(set, "--wait", "60s", "--output", "json")...)
	time.Sleep(time.Second)
	write("B-2,2026-06-03,Sysco,,Chicken Thighs Boneless IQF,3.5,lb,2.49\n")
	time.Sleep(1500 * time.Millisecond) // the import commits the line; the correction waits on
	if waiting.exited() {
		t.Fatalf("mappings set --wait ended while the import ran: exit %d\n%s", waiting.code, waiting.stderr.String())
	}
	w.Close()
	if code := p.wait(t); code != 0 {
		t.Fatalf("the import: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if slow := p.summary(t); slow["rows_imported"] != 3.0 {
		t.Errorf("the import: %v; want its 3 lines imported", slow)
	}
	if code := waiting.wait(t); code != 0 {
		t.Fatalf("mappings set --wait 60s: exit %d\n%s%s", code, waiting.stdout.String(), waiting.stderr.String())
	}
	sets := waiting.summary(t)["result"].([]any)
	if moved := sets[0].(map[string]any)["history_moved"].(map[string]any); moved["transactions"] != 2.0 || moved["quantity_into"] != "15.500" {
		t.Errorf("mappings set --wait moved %v; want both Sysco IQF lines, the last imported while it waited", moved)
	}
	// Its audit row says when it changed the catalogue: after the import ended.
	var at, ended time.Time
	if err := conn.QueryRow(context.Background(), `SELECT c.at, r.finished_at FROM corrections c, import_runs r
		WHERE c.account = 'default' AND r.id = $1`, run).Scan(&at, &ended); err != nil || at.Before(ended) {
		t.Errorf("the correction that waited is audited at %s, before the import it waited for ended at %s (%v)", at, ended, err)
	}
	countIs(t, conn, 1, `SELECT count(*) FROM corrections WHERE account = 'other' AND command = 'items merge'`)
	stock := `SELECT name || ' ' || unit || '=' || quantity FROM inventory_items WHERE account = $1 ORDER BY name`
	listIs(t, conn, "Chicken Thighs Boneless lb=30.000 Chicken Thighs Boneless IQF lb=15.500 Green Onions ea=4.000 Scallions ea=2.000", stock, "default")
	listIs(t, conn, "Chicken Thighs Boneless lb=30.000 Green Onions ea=5.000", stock, "other")
	accounted(t, conn, map[string][]int{base["source_key"].(string): {2, 3, 4}, other["source_key"].(string): {2, 3, 4}, "slow-june": {2, 3, 4}})
}

// mappings export, one row's item changed, mappings apply --move-history:
// only that mapping changes and its history moves; applying an unchanged
// export changes nothing.
func TestMappingsExportApply(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	s := imported(t, cfg, 0, writeLines(t, dir, "may.csv", `A-1,2026-05-04,US Foods,,Chicken Thighs Boneless,30,lb,2.49
A-1,2026-05-04,US Foods,,Dark Meat Thighs IQF,4,kg,5.10
A-1,2026-05-04,US Foods,,Green Onions,3,ea,1.00
B-1,2026-05-04,Sysco,,Chicken Thighs Boneless IQF,12,lb,2.49
B-1,2026-05-04,Sysco,,Green Onions,1,ea,1.00
C-1,2026-05-04,Gordon,,Chicken Thighs Boneless IQF,7,lb,2.49
`))
	thighs, dark := itemID(t, conn, "Chicken Thighs Boneless"), itemID(t, conn, "Dark Meat Thighs IQF")
	export := func(name string) (string, []string) {
		path := filepath.Join(dir, name)
		bi(t, cfg, 0, "mappings", "export", "-o", path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return path, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	}
	path, rows := export("mappings.csv")
	changed := slices.IndexFunc(rows, func(l string) bool {
		return strings.HasPrefix(l, fmt.Sprintf("sysco,description,boneless chicken iqf thigh,%d,Chicken Thighs Boneless,fuzzy,", thighs))
	})
	if len(rows) != 7 || changed < 0 {
		t.Fatalf("export: %q; want a header and 6 mappings, Sysco's IQF matched fuzzily to item %d", rows, thighs)
	}
	before := pgtest.Snapshot(t, conn)
	if p := bi(t, cfg, 0, "mappings", "apply", path, "--move-history"); !strings.Contains(p.stdout.String(), "no mapping changed") {
		t.Errorf("apply of an unchanged export: %q", p.stdout.String())
	}
	unchanged(t, conn, before, "apply of an unchanged export")

	edited := slices.Clone(rows)
	edited[changed] = strings.Replace(rows[changed], fmt.Sprintf(",%d,", thighs), fmt.Sprintf(",%d,", dark), 1)
	if err := os.WriteFile(filepath.Join(dir, "edited.csv"), []byte(strings.Join(edited, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := bi(t, cfg, 0, "mappings", "apply", filepath.Join(dir, "edited.csv"), "--move-history", "--output", "json").summary(t)
	sets, _ := out["result"].([]any)
	want := fmt.Sprint(map[string]any{"vendor": "sysco", "key_kind": "description", "key": "boneless chicken iqf thigh",
		"was_item_id": float64(thighs), "item_id": float64(dark), "item_created": false,
		"history_moved": map[string]any{"transactions": 1.0, "quantity_from": "12.000", "quantity_into": "5.443"}})
	if len(sets) != 1 || fmt.Sprint(sets[0]) != want {
		t.Errorf("apply:\n got %v\nwant [%s]", out["result"], want)
	}
	// Exported again, only that mapping differs: a person's now.
	rows[changed] = fmt.Sprintf("sysco,description,boneless chicken iqf thigh,%d,Dark Meat Thighs IQF,manual,1,-", dark)
	if _, after := export("after.csv"); !slices.Equal(after, rows) {
		t.Errorf("mappings after apply:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(rows, "\n"))
	}
	// A key given twice, or one a spreadsheet rewrote, is refused whole.
	before = pgtest.Snapshot(t, conn)
	for name, file := range map[string][]string{
		"is on line 2 too":     append(slices.Clone(rows), rows[1]),
		"is no stored mapping": append(slices.Clone(rows), "sysco,sku,12,"+fmt.Sprint(dark)+",,manual,1,-"),
		`item_id "2.0": want an item id`: append(slices.Clone(rows[:changed]),
			strings.Replace(rows[changed], fmt.Sprintf(",%d,", dark), ",2.0,", 1)),
		"parse error on line 3, column 12: extraneous or missing \" in quoted-field": append(slices.Clone(rows[:2]), `"sysco,sku`),
	} {
		path := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(path, []byte(strings.Join(file, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if p := bi(t, cfg, 1, "mappings", "apply", path); !strings.Contains(p.stderr.String(), name) {
			t.Errorf("apply of a bad file: %q, want %q", p.stderr.String(), name)
		}
	}
	unchanged(t, conn, before, "a refused apply")
	checkStock(t, conn, map[string]string{"Chicken Thighs Boneless lb": "37.000", "Dark Meat Thighs IQF kg": "9.443", "Green Onions ea": "4.000"})
	accounted(t, conn, map[string][]int{s["source_key"].(string): {2, 3, 4, 5, 6, 7}})
}

// bi runs batchimport and fails the test unless it exits with want.
func bi(t *testing.T, cfg store.Config, want int, args ...string) *proc {
	t.Helper()
	p, code := runBin(t, cfg, args...)
	if code != want {
		t.Fatalf("batchimport %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, p.stdout.String(), p.stderr.String())
	}
	return p
}

// imported imports path, expecting exit code want, and returns its summary.
func imported(t *testing.T, cfg store.Config, want int, path string, args ...string) map[string]any {
	t.Helper()
	return bi(t, cfg, want, append(append([]string{"import", "--output", "json"}, args...), path)...).summary(t)
}

// jsonLines reads output of one JSON object per line.
func jsonLines(t *testing.T, p *proc) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		out = append(out, m)
	}
	return out
}

// countIs checks the number a query answers.
func countIs(t *testing.T, conn *pgx.Conn, want int64, sql string, args ...any) {
	t.Helper()
	if n := count(t, conn, sql, args...); n != want {
		t.Errorf("%s %v: %d, want %d", sql, args, n, want)
	}
}

func count(t *testing.T, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// accounted checks that stock is the sum of base quantities and that every
// record of every source (each source's record lines) is once in
// transactions or rejects, or, for a source whose runs are all reverted, in
// a reverted run.
func accounted(t *testing.T, conn *pgx.Conn, sources map[string][]int) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT source_key, bool_and(status = 'reverted'),
		coalesce(max(rows_read) FILTER (WHERE status = 'reverted'), 0) FROM runs GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type source struct {
		Key      string
		Reverted bool
		Read     int
	}
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[source])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		lines, ok := sources[s.Key]
		switch {
		case !ok:
			t.Errorf("source %s is not accounted for", s.Key)
		case s.Reverted && (s.Read != len(lines) || count(t, conn, `SELECT count(*) FROM transactions t JOIN import_runs r ON r.id = t.run_id WHERE r.source_key = $1`, s.Key) != 0):
			t.Errorf("source %s: all its runs reverted, but %d of its %d records read, or transactions left", s.Key, s.Read, len(lines))
		case !s.Reverted:
			pgtest.CheckInvariant(t, conn, s.Key, lines, "")
		}
	}
	if len(all) != len(sources) {
		t.Errorf("%d sources imported, want %d", len(all), len(sources))
	}
	pgtest.CheckQuantities(t, conn)
}

// listIs checks the rows of a query of one text column, joined by spaces.
func listIs(t *testing.T, conn *pgx.Conn, want, sql string, args ...any) {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("%s:\n got %s\nwant %s", sql, strings.Join(got, " "), want)
	}
}

// unchanged fails the test when the database (its tables and sequences)
// differs from the snapshot before, naming what changed.
func unchanged(t *testing.T, conn *pgx.Conn, before, what string, ignore ...string) {
	t.Helper()
	was := map[string]bool{}
	for _, l := range strings.Split(before, "\n") {
		was[l] = true
	}
	var changed []string
	for _, l := range strings.Split(pgtest.Snapshot(t, conn), "\n") {
		if name := strings.SplitN(l, "=", 2)[0]; !was[l] && !slices.Contains(ignore, name) {
			changed = append(changed, name)
		}
	}
	if len(changed) > 0 {
		t.Errorf("%s changed the database: %s", what, strings.Join(changed, ", "))
	}
}

// An account lock held by a session with no running run (an import whose
// process has exited while its server session is still ending) is waited
// for a moment, not taken for a running import.
func TestCorrectionWaitsForAnEndingSession(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	imported(t, cfg, 0, writeCSV(t, t.TempDir(), "a.csv", "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+
		"A-1,2026-05-04,Sysco,,Scallions,1,ea,1.00\nA-1,2026-05-04,Sysco,,Green Onions,2,ea,1.00\n"))
	ending := pgtest.Conn(t, cfg)
	lock := `(hashtext('batchimport account ' || $1), hashtext($2))`
	if _, err := ending.Exec(context.Background(), `SELECT pg_advisory_lock_shared`+lock, cfg.Schema, "default"); err != nil {
		t.Fatal(err)
	}
	unlocked := make(chan struct{})
	go func() {
		defer close(unlocked)
		time.Sleep(500 * time.Millisecond)
		_, _ = ending.Exec(context.Background(), `SELECT pg_advisory_unlock_shared`+lock, cfg.Schema, "default")
	}()
	bi(t, cfg, 0, "items", "merge", "Scallions", "Green Onions")
	<-unlocked // the connection is the test's to close after
	listIs(t, conn, "Green Onions=3.000", `SELECT name || '=' || quantity FROM inventory_items ORDER BY name`)
}
