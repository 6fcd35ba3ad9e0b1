//go:build unix

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// Supplier files as delivered (SPEC §15), each imported with the flags the
// README documents, and again, into another schema, through a profile of a
// config file that holds the same settings; the values stored exactly:
// real dates, exact decimals, text as meant.
func TestSupplierFilesAsDelivered(t *testing.T) {
	t.Parallel()
	withFlags := pgtest.Schema(t)
	withProfile := pgtest.Schema(t)
	dir := t.TempDir()
	cases := []struct {
		name, file, data string
		flags            []string
		want             string // invoice_number date description quantity unit_cost, of each row
	}{
		{
			name: "a Sysco-style export: US dates, no vendor column, its own headers, thousands",
			file: "sysco.csv",
			data: "Invoice #,Invoice Date,Item #,Item Description,Pack/Size,Qty,Price,Ext Price\n" +
				"S-100,11/28/2026,4471,Beef Tenderloin,1/10LB,2,\"1,089.00\",\"2,178.00\"\n" +
				"S-100,1/5/2026,4472,Roma Tomatoes,1/25LB,3,$32.50,97.50\n",
			flags: []string{"--date-format", "MM/DD/YYYY", "--set", "vendor=Sysco", "--thousands-separator", ","},
			want:  "S-100 2026-11-28 Beef Tenderloin 2.000 1089.0000|S-100 2026-01-05 Roma Tomatoes 3.000 32.5000",
		},
		{
			name: "a European supplier: semicolons, DD.MM.YYYY, decimal commas",
			file: "metro.csv",
			data: "Rechnung;Datum;Lieferant;Artikel;Menge;Einheit;Preis\n" +
				"M-7;28.11.2026;Metro;Zwiebeln rot;2,5;kg;0,79\n" +
				"M-7;28.11.2026;Metro;Butter;1.000,25;kg;4,5 €\n",
			flags: []string{"--delimiter", ";", "--date-format", "DD.MM.YYYY", "--decimal-separator", ",", "--thousands-separator", ".",
				"--column", "invoice_number=Rechnung", "--column", "invoice_date=Datum", "--column", "vendor=Lieferant",
				"--column", "description=Artikel", "--column", "quantity=Menge", "--column", "unit=Einheit", "--column", "unit_price=Preis"},
			want: "M-7 2026-11-28 Butter 1000.250 4.5000|M-7 2026-11-28 Zwiebeln rot 2.500 0.7900",
		},
		{
			name: "a report with two title lines above its header, ISO date-times",
			file: "report.csv",
			data: "Invoice report,,,\n\"Generated 2026-11-30, all vendors\",,,\n" +
				"invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
				"R-1,2026-11-27T08:30:00Z,US Foods,Cream 36%,4,3.10\n" +
				"R-1,2026-11-27 08:30:00,US Foods,Cream 40%,1,3.30\n",
			flags: []string{"--skip-lines", "2"},
			want:  "R-1 2026-11-27 Cream 36% 4.000 3.1000|R-1 2026-11-27 Cream 40% 1.000 3.3000",
		},
		{
			name: "Excel CSV in Windows-1252, ending in a blank row, a TOTAL row and a note",
			file: "excel.csv",
			data: "invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
				"E-1,2026-11-25,Pe\xf1asco Farms,Jalape\xf1o Peppers,2,1.50\n,,,,,\nTOTAL,,,,,3.00\nThank you\n",
			flags: []string{"--encoding", "windows-1252", "--skip-non-lines"},
			want:  "E-1 2026-11-25 Jalapeño Peppers 2.000 1.5000",
		},
		{
			name: "an API export of nested JSON",
			file: "api.json",
			data: `{"supplier": "Baldor", "invoices": [{"invoiceNo": "J-9", "invoiceDate": "2026-11-24T10:00:00Z",
				"lines": [{"description": "Ramps", "qty": 3, "unitPrice": "$4.50"}]}]}`,
			flags: []string{"--records", "invoices[].lines[]"},
			want:  "J-9 2026-11-24 Ramps 3.000 4.5000",
		},
		{
			name: "Excel CSV whose first line names its delimiter",
			file: "sep.csv",
			data: "\xef\xbb\xbfsep=;\r\ninvoice_number;invoice_date;vendor;description;quantity;unit_price\r\n" +
				"X-1;2026-11-26;Metro;Butter, unsalted;2;3.10\r\n",
			want: "X-1 2026-11-26 Butter, unsalted 2.000 3.1000",
		},
		{
			name: "a .tsv file",
			file: "export.tsv",
			data: "invoice_number\tinvoice_date\tvendor\tdescription\tquantity\tunit_price\n" +
				"T-1\t2026-11-26\tBaldor\tMicro Greens, Mixed\t6\t12.00\n",
			want: "T-1 2026-11-26 Micro Greens, Mixed 6.000 12.0000",
		},
	}
	for _, cfg := range []store.Config{withFlags, withProfile} {
		conn := pgtest.Conn(t, cfg)
		for i, c := range cases {
			path := writeCSV(t, dir, c.file, c.data)
			flags := c.flags
			if cfg == withProfile {
				path = writeCSV(t, dir, "profiled-"+c.file, c.data)
				config := writeCSV(t, dir, fmt.Sprintf("profiles-%d.toml", i), profileOf("p", "profiled-"+c.file, c.flags))
				flags = []string{"--config", config}
			}
			s := imported(t, cfg, 0, path, flags...)
			if s["rows_imported"] != float64(strings.Count(c.want, "|")+1) {
				t.Errorf("%s: %v", c.name, s)
				continue
			}
			listIs(t, conn, strings.ReplaceAll(c.want, "|", " "), `SELECT t.invoice_number || ' ' || t.invoice_date || ' ' || t.description || ' ' || t.quantity || ' ' || t.unit_cost
				FROM transactions t JOIN import_runs r ON r.id = t.run_id WHERE r.source_key = $1 ORDER BY t.description`, s["source_key"])
		}
		pgtest.CheckQuantities(t, conn)
	}
}

// profileOf writes flags as a config file's profile name, matching file:
// each --flag VALUE a key, repeated flags a list, a flag without a value
// true.
func profileOf(name, file string, flags []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[profiles.%s]\nmatch = [%q]\n", name, file)
	lists := map[string][]string{}
	var order []string
	for i := 0; i < len(flags); i++ {
		key := strings.TrimPrefix(flags[i], "--")
		if i+1 == len(flags) || strings.HasPrefix(flags[i+1], "--") {
			fmt.Fprintf(&b, "%s = true\n", key)
			continue
		}
		if _, seen := lists[key]; !seen {
			order = append(order, key)
		}
		lists[key] = append(lists[key], flags[i+1])
		i++
	}
	for _, key := range order {
		vs := lists[key]
		if len(vs) == 1 && key != "set" && key != "column" {
			fmt.Fprintf(&b, "%s = %q\n", key, vs[0])
			continue
		}
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, "%s = [%s]\n", key, strings.Join(q, ", "))
	}
	return b.String()
}

// Text in Windows-1252 is stored as the UTF-8 it means; its rejects file is
// UTF-8 with a byte order mark, and imported again, fixed, with the same
// --encoding, reads right. UTF-16 with its byte order mark needs no flag.
func TestSupplierEncodings(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	cp1252 := "invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
		"W-1,2026-11-28,Pe\xf1asco Farms,Jalape\xf1o Peppers,2,1.50\n" +
		"W-1,2026-11-28,Pe\xf1asco Farms,Cr\xe8me fra\xeeche,x,2.00\n"
	s := imported(t, cfg, 3, writeCSV(t, dir, "excel.csv", cp1252), "--encoding", "windows-1252")
	rejects, err := os.ReadFile(s["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(rejects), "\ufeffinvoice_number,") || !strings.Contains(string(rejects), "Crème fraîche,x,") {
		t.Fatalf("the rejects file of a Windows-1252 input: %q; want UTF-8 with a byte order mark", rejects)
	}
	fixed := writeCSV(t, dir, "excel.fixed.csv", strings.Replace(string(rejects), ",x,", ",1,", 1))
	imported(t, cfg, 0, fixed, "--encoding", "windows-1252")
	utf16 := []byte{0xff, 0xfe}
	for _, r := range "invoice_number,invoice_date,vendor,description,quantity,unit_price\r\nU-1,2026-11-28,Ōkura,日本酒,1,9.00\r\n" {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	if err := os.WriteFile(filepath.Join(dir, "utf16.csv"), utf16, 0o644); err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 0, filepath.Join(dir, "utf16.csv"))
	listIs(t, conn, "Crème fraîche/Peñasco Farms Jalapeño Peppers/Peñasco Farms 日本酒/Ōkura",
		`SELECT description || '/' || vendor FROM transactions ORDER BY description`)
	pgtest.CheckQuantities(t, conn)
}

// A file ending in a blank row, a TOTAL row and a note: with
// --skip-non-lines those are skipped (rows_skipped), not rejected, and the
// run is a success; a line with no quantity is still rejected.
func TestSupplierNonLinesSkipped(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	data := "invoice_number,invoice_date,vendor,description,quantity,unit_price,ext_price\n" +
		"N-1,2026-11-28,Sysco,Limes,2,1.00,2.00\n" +
		"N-1,2026-11-28,Sysco,Lemons,3,1.00,3.00\n" +
		",,,,,,\n" +
		"TOTAL,,,,,,5.00\n" +
		"Thank you for your business!\n"
	path := writeCSV(t, dir, "nightly.csv", data)
	s := imported(t, cfg, 3, path)
	if s["rows_rejected"] != 3.0 {
		t.Errorf("without --skip-non-lines: %v; want the 3 rows rejected", s)
	}
	path = writeCSV(t, dir, "nightly2.csv", strings.ReplaceAll(data, "N-1", "N-2")+"N-9,2026-11-29,Sysco,Oranges,,1.00,0\n")
	s = imported(t, cfg, 3, path, "--skip-non-lines")
	if s["rows_imported"] != 2.0 || s["rows_skipped"] != 3.0 || s["rows_rejected"] != 1.0 {
		t.Errorf("--skip-non-lines: %v; want 2 imported, 3 skipped, and the line with no quantity rejected", s)
	}
	path = writeCSV(t, dir, "nightly3.csv", strings.ReplaceAll(data, "N-1", "N-3"))
	s = imported(t, cfg, 0, path, "--skip-non-lines")
	if s["status"] != "success" || s["rows_read"] != 5.0 || s["rows_imported"] != 2.0 || s["rows_skipped"] != 3.0 {
		t.Errorf("--skip-non-lines: %v; want success, 5 read, 2 imported, 3 skipped", s)
	}
	if n := count(t, conn, `SELECT rows_skipped FROM runs WHERE source_key = $1`, s["source_key"]); n != 3 {
		t.Errorf("import_runs.rows_skipped = %d, want 3", n)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{2, 3}, "")
}

// The same supplier files, read through profiles of a config file: picked
// by the file's name or by --profile, under flags given on the command line.
func TestSupplierProfiles(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	config := writeCSV(t, dir, "batchimport.toml", `
[defaults]
skip-non-lines = true

[profiles.sysco]
match = ["sysco*.csv", "SYSCO_*.csv"]
date-format = "MM/DD/YYYY"
set = ["vendor=Sysco"]
thousands-separator = ","

[profiles.metro]
delimiter = ";"
date-format = "DD.MM.YYYY"
decimal-separator = ","
thousands-separator = "."
column = ["invoice_number=Rechnung", "invoice_date=Datum", "vendor=Lieferant", "description=Artikel", "quantity=Menge", "unit_price=Preis"]
`)
	sysco := writeCSV(t, dir, "sysco-2026-11-28.csv", "Invoice #,Invoice Date,Item Description,Qty,Price\n"+
		"P-1,11/28/2026,Beef Tenderloin,2,\"1,089.00\"\n,,,,\n")
	s := imported(t, cfg, 0, sysco, "--config", config)
	if s["rows_imported"] != 1.0 || s["rows_skipped"] != 1.0 {
		t.Errorf("sysco through its profile: %v", s)
	}
	metro := writeCSV(t, dir, "lieferung.csv", "Rechnung;Datum;Lieferant;Artikel;Menge;Preis\nP-2;28.11.2026;Metro;Butter;1.000,25;4,5\n")
	s = imported(t, cfg, 0, metro, "--config", config, "--profile", "metro")
	if s["rows_imported"] != 1.0 {
		t.Errorf("metro through --profile: %v", s)
	}
	// A flag on the command line wins over the profile.
	sysco2 := writeCSV(t, dir, "sysco-2026-11-29.csv", "Invoice #,Invoice Date,Item Description,Qty,Price\nP-3,29.11.2026,Limes,3,1.00\n")
	s = imported(t, cfg, 0, sysco2, "--config", config, "--date-format", "DD.MM.YYYY")
	if s["rows_imported"] != 1.0 {
		t.Errorf("sysco with --date-format over its profile: %v", s)
	}
	listIs(t, conn, "P-1/Sysco/2026-11-28/1089.0000 P-2/Metro/2026-11-28/4.5000 P-3/Sysco/2026-11-29/1.0000",
		`SELECT invoice_number || '/' || vendor || '/' || invoice_date || '/' || unit_cost FROM transactions ORDER BY invoice_number`)
	// A mistake in the config is a usage error (exit 2), said before any
	// file is read, naming the config and its section: a key no flag has,
	// a value its flag refuses (not a failure of each file, blamed on a
	// flag the command line does not have), a per-input flag, a pattern
	// that cannot match.
	for _, c := range []struct{ config, want string }{
		{"[profiles.x]\nmatch = \"*.csv\"\ndate-fromat = \"MM/DD/YYYY\"\n", `[profiles.x]: "date-fromat" is not a flag`},
		{"[defaults]\nwriters = 99\n", `[defaults]: --writers must be from 1 to 16`},
		{"[profiles.y]\nmatch = \"y*.csv\"\ndate-format = \"MM/YYYY\"\n", `[profiles.y]: --date-format "MM/YYYY"`},
		{"[defaults]\nforce = true\n", `"force" is for one input at a time`},
		{"[profiles.z]\nmatch = \"[z\"\n", `[profiles.z] match "[z": syntax error in pattern`},
	} {
		bad := writeCSV(t, dir, "bad.toml", c.config)
		p, code := runBin(t, cfg, "import", "--output", "json", "--config", bad, sysco)
		if code != 2 || !strings.Contains(p.stderr.String(), "config "+bad+": ") || !strings.Contains(p.stderr.String(), c.want) || p.stdout.String() != "" {
			t.Errorf("config %q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", c.config, code, p.stdout.String(), p.stderr.String(), c.want)
		}
	}
	// A file two profiles match fails alone; the others go on.
	two := writeCSV(t, dir, "two.toml", "[profiles.a]\nmatch = \"sysco*\"\n[profiles.b]\nmatch = \"*.csv\"\n")
	if s = imported(t, cfg, 1, sysco, "--config", two); !strings.Contains(s["error"].(string), "matches the profiles a and b") {
		t.Errorf("two profiles: %v", s)
	}
}

// An API export of nested JSON, its records two arrays down: imported with
// --records, each line with its invoice's number and date and the
// supplier's name; its rejects file stands on its own, and imported again
// once fixed (as NDJSON, where --records does not apply) comes home.
func TestSupplierNestedJSON(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	doc := `{"supplier": "Baldor", "exported": "2026-11-30T06:00:00Z",
 "invoices": [
  {"invoiceNo": "J-1", "invoiceDate": "2026-11-28", "lines": [
    {"sku": "MG-1", "description": "Micro Greens", "qty": 2, "unitPrice": 12.00},
    {"sku": "SH-1", "description": "Shiso", "qty": "two", "unitPrice": 9}
  ]},
  {"invoiceNo": "J-2", "invoiceDate": "2026-11-29", "lines": [
    {"sku": "RA-1", "description": "Ramps", "qty": 3, "unitPrice": "4.50"}
  ]}
 ]}
`
	path := writeCSV(t, dir, "baldor-api.json", doc)
	s := imported(t, cfg, 3, path, "--records", "invoices[].lines[]")
	if s["rows_imported"] != 2.0 || s["rows_rejected"] != 1.0 {
		t.Fatalf("nested JSON: %v", s)
	}
	rejects, err := os.ReadFile(s["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	fixed := writeCSV(t, dir, "baldor-api.fixed.ndjson", strings.Replace(string(rejects), `"qty":"two"`, `"qty":2`, 1))
	imported(t, cfg, 0, fixed, "--records", "invoices[].lines[]")
	listIs(t, conn, "J-1/Baldor/MG-1/2.000 J-1/Baldor/SH-1/2.000 J-2/Baldor/RA-1/3.000",
		`SELECT invoice_number || '/' || vendor || '/' || vendor_sku || '/' || quantity FROM transactions ORDER BY vendor_sku <> 'MG-1', invoice_number, vendor_sku`)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{4, 5, 8}, "")
}

// A wrong format setting gives messages that point at the setting: every
// date rejected says --date-format, a number with a comma the separators.
func TestSupplierFormatMessages(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	path := writeCSV(t, dir, "us.csv", "invoice_number,invoice_date,vendor,description,quantity,unit_price\n"+
		"U-1,11/28/2026,Sysco,Limes,2,1.00\nU-2,11/29/2026,Sysco,Lemons,2,1.00\n")
	s := imported(t, cfg, 1, path)
	if s["status"] != "rejected" || !strings.Contains(s["error"].(string), "--date-format") {
		t.Errorf("every date rejected: %v; want rejected, suggesting --date-format", s)
	}
	path = writeCSV(t, dir, "comma.csv", "invoice_number,invoice_date,vendor,description,quantity,unit_price\n"+
		"C-1,2026-11-28,Sysco,Limes,2,\"1,089.00\"\nC-1,2026-11-28,Sysco,Lemons,2,1.00\n")
	s = imported(t, cfg, 3, path)
	reasons := rejectReasons(t, s["rejects_file"].(string))
	if len(reasons) != 1 || !strings.Contains(reasons[0], "--thousands-separator ,") || !strings.Contains(reasons[0], "unit_price") {
		t.Errorf("a price 1,089.00 read with no thousands separator: %q; want it rejected naming unit_price and --thousands-separator", reasons)
	}
	path = writeCSV(t, dir, "ambiguous.csv", "Invoice #,Invoice Date,Vendor,Description,Qty,Qty Shipped,Price\n"+
		"A-1,2026-11-28,Sysco,Limes,2,2,1.00\n")
	s = imported(t, cfg, 1, path)
	if msg, _ := s["error"].(string); !strings.Contains(msg, `"Qty"`) || !strings.Contains(msg, `"Qty Shipped"`) || !strings.Contains(msg, "--column quantity=HEADER") {
		t.Errorf("two columns named for quantity: %q; want both named and --column suggested", msg)
	}
}

// The rejects file of an input whose sep=; line named its delimiter names
// it too: fixed, it imports again with the flags of its input (none).
func TestExcelSepRejectsImportAgain(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	path := writeCSV(t, dir, "sep.csv", "sep=;\ninvoice_number;invoice_date;vendor;description;quantity;unit_price\n"+
		"A-1;2026-01-02;Metro;Milk, whole;1;2\nA-1;2026-01-02;Metro;Eggs;x;3\n")
	first := imported(t, cfg, 3, path)
	rejects := first["rejects_file"].(string)
	if data := readFile(t, rejects); !strings.HasPrefix(data, "sep=;\ninvoice_number;") {
		t.Fatalf("rejects file:\n%s", data)
	}
	fixed := writeCSV(t, dir, "sep.fixed.csv", strings.Replace(readFile(t, rejects), ";x;", ";2;", 1))
	again := imported(t, cfg, 0, fixed)
	if again["rows_imported"] != 1.0 {
		t.Errorf("fixed rejects: %v", again)
	}
	pgtest.CheckInvariant(t, conn, first["source_key"].(string), []int{3, 4}, "")
	checkStock(t, conn, map[string]string{"Milk, whole ea": "1.000", "Eggs ea": "2.000"})
}
