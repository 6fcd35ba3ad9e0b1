//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// Stock is kept in each item's base unit: cases converted by their pack
// size, standard units by their exact factors; a unit without a conversion
// is rejected naming `units set`, and once that is set, the fixed rejects
// come home converted.
func TestUnitsConvertIntoBaseUnits(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	path := filepath.Join(dir, "units.csv")
	data := `invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,pack
A-1,2026-05-04,Sysco,SY-1,Whole Milk 1 Gal,3,CS,15.20,4/1GAL
A-1,2026-05-04,Sysco,SY-1,Whole Milk 1 Gal,12,gal,3.89,
A-2,2026-05-05,Sysco,SY-1,Whole Milk 1 Gal,2,CS,15.20,
A-2,2026-05-05,Sysco,SY-2,Canola Oil,8,qt,5.00,
A-2,2026-05-05,Sysco,SY-2,Canola Oil,2,gal,19.00,
A-2,2026-05-05,Sysco,SY-2,Canola Oil,2,bag,9.00,
A-2,2026-05-05,Sysco,SY-3,Eggs Large,5,DZ,3.10,
A-2,2026-05-05,Sysco,SY-4,Roma Tomatoes 25lb,2,cs,37.25,
A-2,2026-05-05,Sysco,SY-4,Roma Tomatoes 25lb,10,LBS,1.49,
A-2,2026-05-05,Sysco,SY-5,Bread Flour,1,kg,2.00,
A-2,2026-05-05,Sysco,SY-5,Bread Flour,10,lb,9.00,
A-2,2026-05-05,Sysco,SY-5,Bread Flour,1,CS,20.00,1/25 lb
A-2,2026-05-05,Sysco,SY-5,Bread Flour,1,CS,20.00,large
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", path)
	s := p.summary(t)
	if code != 3 || s["rows_imported"] != 10.0 || s["rows_rejected"] != 3.0 {
		t.Fatalf("exit %d, %v; want 10 imported, 3 rejected\n%s", code, s, p.stderr.String())
	}
	rejects := s["rejects_file"].(string)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, rejects)
	milk, oil := itemID(t, conn, "Whole Milk 1 Gal"), itemID(t, conn, "Canola Oil")
	reasons := rejectReasons(t, rejects)
	want := []string{
		// Items this run creates have no id yet: they are named.
		`unit: cannot convert "cs" into "gal", the base unit of item "Whole Milk 1 Gal"; give a pack size (pack field, e.g. 4/1GAL), or run: batchimport units set 'Whole Milk 1 Gal' cs FACTOR (how many gal one cs holds), then import the rejects again (got "CS")`,
		`unit: cannot convert "bag" into "qt", the base unit of item "Canola Oil"; give a pack size (pack field, e.g. 4/1GAL), or run: batchimport units set 'Canola Oil' bag FACTOR (how many qt one bag holds), then import the rejects again (got "bag")`,
		`pack: must be a pack size: COUNT/SIZE UNIT, as 4/1GAL, 1/25LB or 6/#10, or SIZE UNIT, as 40# or 200CT (got "large")`,
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Errorf("reasons:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}
	wantStock := map[string]string{
		"Whole Milk 1 Gal gal":  "24.000", // 3 CS of 4/1GAL + 12 gal
		"Canola Oil qt":         "16.000", // 8 qt + 2 gal
		"Eggs Large ea":         "60.000", // 5 dozen
		"Roma Tomatoes 25lb lb": "60.000", // 2 cases of 25 lb (the description's size) + 10 lb
		"Bread Flour kg":        "16.876", // 1 kg + 10 lb (4.5359237 kg) + a case of 25 lb (11.33980925 kg), each rounded to 0.001
	}
	checkStock(t, conn, wantStock)

	// The fixes the reasons name, then the rejects again: with the
	// reject of the bad pack size fixed too.
	for _, args := range [][]string{
		{"units", "set", "whole milk 1 gal", "CS", "4"}, // by name
		{"units", "set", fmt.Sprint(oil), "bag", "2.5"}, // by id
	} {
		if p, code := runBin(t, cfg, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, p.stdout.String(), p.stderr.String())
		}
	}
	if p, code := runBin(t, cfg, "units", "set", fmt.Sprint(milk), "qt", "0.3"); code == 0 || !strings.Contains(p.stderr.String(), `"qt" converts into "gal" by definition`) {
		t.Errorf("units set of a standard unit: exit %d, %s; want it refused", code, p.stderr.String())
	}
	p, code = runBin(t, cfg, "units", "list", "--output", "json")
	if code != 0 {
		t.Fatalf("units list: exit %d\n%s", code, p.stderr.String())
	}
	var list []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		var u map[string]any
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("units list: %v: %q", err, line)
		}
		list = append(list, u)
	}
	byUnit := map[any]map[string]any{}
	for _, u := range list {
		byUnit[u["unit"]] = u
	}
	if bag, cs := byUnit["bag"], byUnit["cs"]; len(list) != 2 || bag["factor"] != "2.5" || cs["factor"] != "4" || cs["base_unit"] != "gal" {
		t.Errorf("units list: %v", list)
	}
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(dir, "fixed.csv")
	if err := os.WriteFile(fixed, []byte(strings.Replace(string(b), ",large,", ",1/25 lb,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", fixed)
	if s := p.summary(t); code != 0 || s["rows_imported"] != 3.0 {
		t.Fatalf("fixed rejects: exit %d, %v\n%s", code, s, p.stderr.String())
	}
	wantStock["Whole Milk 1 Gal gal"] = "32.000" // + 2 CS of 4 gal
	wantStock["Canola Oil qt"] = "21.000"        // + 2 bags of 2.5 qt
	wantStock["Bread Flour kg"] = "28.216"       // + another 25 lb case
	checkStock(t, conn, wantStock)
	pgtest.CheckQuantities(t, conn)
	// Importing the same fixed file again changes nothing.
	if p, code := runBin(t, cfg, "import", "--output", "json", fixed); code != 0 || p.summary(t)["status"] != "skipped" {
		t.Errorf("the fixed file again: exit %d, %v", code, p.summary(t))
	}
	checkStock(t, conn, wantStock)

	// An item of the catalogue is numbered in the fix.
	later := filepath.Join(dir, "later.csv")
	if err := os.WriteFile(later, []byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+
		"B-1,2026-05-09,Sysco,SY-3,Eggs Large,3,box,9.00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", later)
	eggs := itemID(t, conn, "Eggs Large")
	want = []string{fmt.Sprintf(`unit: cannot convert "box" into "ea", the base unit of item %d "Eggs Large"; give a pack size (pack field, e.g. 4/1GAL), or run: batchimport units set %d box FACTOR (how many ea one box holds), then import the rejects again (got "box")`, eggs, eggs)}
	if s := p.summary(t); code != 1 || s["status"] != "rejected" || fmt.Sprint(rejectReasons(t, s["rejects_file"].(string))) != fmt.Sprint(want) {
		t.Errorf("a box of eggs: exit %d, %v; want it rejected with %q", code, s, want[0])
	}
	checkStock(t, conn, wantStock)

	// A line whose pack field says a case holds 4 gal is no case of the
	// item's 25 lb; one whose unit is unknown is no case either.
	odd := filepath.Join(dir, "odd.csv")
	if err := os.WriteFile(odd, []byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,pack\n"+
		"C-1,2026-05-10,Sysco,SY-4,TOMATO ROMA,2,cs,37.25,4/1GAL\n"+
		"C-1,2026-05-10,Sysco,SY-4,TOMATO ROMA,1,PK,37.25,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", odd)
	tomatoes := itemID(t, conn, "Roma Tomatoes 25lb")
	want = nil
	for _, u := range []string{"cs", "pk"} {
		want = append(want, fmt.Sprintf(`unit: cannot convert %q into "lb", the base unit of item %d "Roma Tomatoes 25lb"; run: batchimport units set %d %s FACTOR (how many lb one %s holds), then import the rejects again (got %q)`,
			u, tomatoes, tomatoes, u, u, map[string]string{"cs": "cs", "pk": "PK"}[u]))
	}
	if s := p.summary(t); code != 1 || fmt.Sprint(rejectReasons(t, s["rejects_file"].(string))) != fmt.Sprint(want) {
		t.Errorf("a contrary pack and an unknown unit: exit %d, %v, %q; want them rejected with %q", code, s, rejectReasons(t, s["rejects_file"].(string)), want)
	}
	checkStock(t, conn, wantStock)
}

// An item made from a line without a unit counts the item (ea): a later
// line in a unit that does not convert into it is rejected, not added as
// read.
func TestItemFromALineWithoutAUnitCountsEach(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	path := filepath.Join(t.TempDir(), "towels.csv")
	data := `invoice_number,invoice_date,vendor,description,quantity,unit,unit_price
A-1,2026-05-04,Sysco,Paper Towels,3,,10.00
A-2,2026-05-05,Sysco,Paper Towels,2,gal,10.00
A-2,2026-05-05,Sysco,Paper Towels,1,dz,10.00
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", path)
	s := p.summary(t)
	if code != 3 || s["rows_imported"] != 2.0 || s["rows_rejected"] != 1.0 {
		t.Fatalf("exit %d, %v; want 2 imported, the gal line rejected\n%s", code, s, p.stderr.String())
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{2, 3, 4}, s["rejects_file"].(string))
	if reasons := rejectReasons(t, s["rejects_file"].(string)); len(reasons) != 1 || !strings.Contains(reasons[0], `cannot convert "gal" into "ea"`) {
		t.Errorf("rejects %q; want the gal line's, naming ea", reasons)
	}
	checkStock(t, conn, map[string]string{"Paper Towels ea": "15.000"})
}

func itemID(t *testing.T, conn *pgx.Conn, name string) int64 {
	t.Helper()
	var id int64
	if err := conn.QueryRow(context.Background(), `SELECT id FROM inventory_items WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatalf("item %q: %v", name, err)
	}
	return id
}

// checkStock compares each item's stock, keyed "name base-unit", with want.
func checkStock(t *testing.T, conn *pgx.Conn, want map[string]string) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT name || ' ' || coalesce(unit, ''), quantity::text FROM inventory_items`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var k, v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { got[k] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stock by item and base unit:\n got %v\nwant %v", got, want)
	}
}
