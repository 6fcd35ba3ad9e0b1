//go:build unix

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// An .xlsx as a supplier exports it: a title row above the header, dates
// in date cells, prices as Excel writes them (2.45 as 2.4500000000000002,
// a formula's 0.1+0.2 as 0.30000000000000004). Its values are stored
// exactly; its rejects file is CSV naming the rows, and imported again once
// fixed, its rows come home.
func TestXLSXImport(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	path := writeXLSX(t, dir, "sysco-november.xlsx", [][]any{
		{"Sysco invoice export, November 2026"},
		{"Invoice #", "Invoice Date", "Vendor", "Item Description", "Qty", "Unit", "Price"},
		{"X-1", day, "Sysco", "Whole Milk", 2, "gal", number("2.4500000000000002")},
		{"X-1", day.Add(12 * time.Hour), "Sysco", "Heavy Cream", 1.5, "qt", number("0.30000000000000004")},
		nil,
		{"X-2", "2026-11-27", "Sysco", "Butter", "two", "lb", 3},
		{"X-2", 46353, "Sysco", "Large Eggs", 12, "ea", number("1089")},
	})
	s := imported(t, cfg, 3, path, "--skip-lines", "1")
	if s["rows_imported"] != 3.0 || s["rows_rejected"] != 1.0 {
		t.Fatalf("import: %v; want 3 imported, 1 rejected", s)
	}
	rejects := s["rejects_file"].(string)
	if want := filepath.Join(dir, "sysco-november.rejects.csv"); rejects != want {
		t.Errorf("rejects file %s, want %s", rejects, want)
	}
	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "Invoice #,Invoice Date,Vendor,Item Description,Qty,Unit,Price,_run,_record,_line,_error\n"+
		"X-2,2026-11-27,Sysco,Butter,two,lb,3,") {
		t.Errorf("rejects file:\n%s", data)
	}
	if lines := pgtest.RejectedLines(t, rejects); len(lines) != 1 || lines[0] != 6 {
		t.Errorf("rejected rows %v, want [6]", lines)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{3, 4, 6, 7}, rejects)

	fixed := writeCSV(t, dir, "sysco-november.fixed.csv", strings.Replace(string(data), ",two,", ",2,", 1))
	if s := imported(t, cfg, 0, fixed); s["rows_imported"] != 1.0 {
		t.Errorf("fixed rejects: %v; want the row imported", s)
	}
	listIs(t, conn, "X-1/2026-11-28/Heavy Cream/1.500/0.3000 X-1/2026-11-28/Whole Milk/2.000/2.4500 "+
		"X-2/2026-11-27/Butter/2.000/3.0000 X-2/2026-11-27/Large Eggs/12.000/1089.0000",
		`SELECT invoice_number || '/' || invoice_date || '/' || description || '/' || quantity || '/' || unit_cost
		FROM transactions ORDER BY invoice_number, description`)
	countIs(t, conn, 0, `SELECT count(*) FROM rejects WHERE resolved_by IS NULL`)
	pgtest.CheckQuantities(t, conn)

	// The same workbook through a profile, into another schema.
	other := pgtest.Schema(t)
	config := writeCSV(t, dir, "profiles.toml", profileOf("sysco", "sysco-*.xlsx", []string{"--skip-lines", "1", "--sheet", "Sheet1"}))
	if s := imported(t, other, 3, path, "--config", config); s["rows_imported"] != 3.0 || s["rows_rejected"] != 1.0 {
		t.Errorf("through a profile: %v; want 3 imported, 1 rejected", s)
	}
}

// Number cells hold their number with a point whatever the locale; with
// --decimal-separator , --thousands-separator . they keep their value, text
// typed the user's way is read with the separators, and the rejects file
// (CSV) reads back with the same flags.
func TestXLSXSeparators(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	path := writeXLSX(t, dir, "metro-november.xlsx", [][]any{
		{"Rechnung", "Datum", "Lieferant", "Bezeichnung", "Menge", "Einheit", "Preis"},
		{"M-1", day, "Metro", "Milch", number("1.234"), "l", number("1234.5")},
		{"M-1", day, "Metro", "Sahne", "1.234,5", "l", "2,45"},
		{"M-2", day, "Metro", "", number("2.25"), "kg", number("3.5")},
	})
	flags := []string{"--decimal-separator", ",", "--thousands-separator", ".",
		"--column", "invoice_number=Rechnung", "--column", "invoice_date=Datum", "--column", "vendor=Lieferant",
		"--column", "description=Bezeichnung", "--column", "quantity=Menge", "--column", "unit=Einheit", "--column", "unit_price=Preis"}
	s := imported(t, cfg, 3, path, flags...)
	if s["rows_imported"] != 2.0 || s["rows_rejected"] != 1.0 {
		t.Fatalf("import: %v; want 2 imported, 1 rejected", s)
	}
	data, err := os.ReadFile(s["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\nM-2,2026-11-28,Metro,,\"2,25\",kg,\"3,5\",") {
		t.Fatalf("rejects file:\n%s", data)
	}
	fixed := writeCSV(t, dir, "metro-november.fixed.csv", strings.Replace(string(data), "Metro,,", "Metro,Butter,", 1))
	if s := imported(t, cfg, 0, fixed, flags...); s["rows_imported"] != 1.0 {
		t.Errorf("fixed rejects: %v; want the row imported", s)
	}
	listIs(t, conn, "M-1/Milch/1.234/1234.5000 M-1/Sahne/1234.500/2.4500 M-2/Butter/2.250/3.5000",
		`SELECT invoice_number || '/' || description || '/' || quantity || '/' || unit_cost
		FROM transactions ORDER BY invoice_number, description`)
}

// number is a number cell's value as the sheet's XML has it.
type number string

// writeXLSX writes a workbook of one sheet with excelize: a string is a
// text cell, a time.Time a date cell, a number as written, nil no cell.
func writeXLSX(t *testing.T, dir, name string, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			var err error
			switch v := v.(type) {
			case nil:
			case string:
				err = f.SetCellStr("Sheet1", cell, v)
			case number:
				err = f.SetCellDefault("Sheet1", cell, string(v))
			default:
				err = f.SetCellValue("Sheet1", cell, v)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Each sheet of a workbook is a source of its own, and so is each
// --records path of a JSON document: the second sheet of a workbook whose
// first was imported is imported, not skipped as a repeat of the file.
// The same sheet again is a repeat.
func TestEachPartOfAFileIsASource(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	f := excelize.NewFile()
	header := []any{"invoice_number", "invoice_date", "vendor", "description", "quantity", "unit", "unit_price"}
	for sheet, line := range map[string][]any{"Jan": {"J1", "2026-01-05", "Sysco", "Whole Milk", 1, "gal", 2}, "Feb": {"F1", "2026-02-05", "Sysco", "Whole Milk", 2, "gal", 2}} {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		for r, row := range [][]any{header, line} {
			if err := f.SetSheetRow(sheet, "A"+string(rune('1'+r)), &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, "two.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()
	jan := imported(t, cfg, 0, path, "--sheet", "Jan")
	feb := imported(t, cfg, 0, path, "--sheet", "FEB")
	if jan["rows_imported"] != 1.0 || feb["status"] != "success" || feb["rows_imported"] != 1.0 {
		t.Errorf("sheet Jan: %v; sheet Feb after it: %v; want each imported", jan, feb)
	}
	if again := imported(t, cfg, 0, path, "--sheet", "feb"); again["status"] != "skipped" {
		t.Errorf("sheet Feb again: %v; want skipped", again)
	}
	doc := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(doc, []byte(`{"a": [{"invoice_number": "A1", "invoice_date": "2026-03-05", "vendor": "Sysco", "description": "Whole Milk", "quantity": 3, "unit": "gal", "unit_price": 2}],
"b": [{"invoice_number": "B1", "invoice_date": "2026-03-06", "vendor": "Sysco", "description": "Whole Milk", "quantity": 4, "unit": "gal", "unit_price": 2}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 0, doc, "--records", "a[]")
	if b := imported(t, cfg, 0, doc, "--records", "b[]"); b["rows_imported"] != 1.0 {
		t.Errorf("records b[] after a[]: %v; want imported", b)
	}
	checkStock(t, conn, map[string]string{"Whole Milk gal": "10.000"})
	pgtest.CheckQuantities(t, conn)
}
