//go:build unix

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// A re-sent invoice is imported once: in a new file among other invoices,
// and in the same file re-sent with one more newline.
func TestResentInvoices(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	a := testgen.CSV(t, dir, "a.csv", testgen.Spec{Rows: 2000, Variant: 1})
	// b re-sends a's first five invoices (100 lines), then new ones.
	b := testgen.CSV(t, dir, "b.csv", testgen.Spec{Rows: 1000, Variant: 2, Edit: func(i int, f []string) {
		if i < 100 {
			f[0] = fmt.Sprintf("INV-1-%d", i/20)
		}
	}})
	p, code := runBin(t, cfg, "import", "--output", "json", a.Path)
	if code != 0 {
		t.Fatalf("a: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	sa := p.summary(t)
	p, code = runBin(t, cfg, "import", "--output", "json", b.Path)
	sb := p.summary(t)
	if code != 3 || sb["rows_rejected"] != 100.0 || sb["rows_imported"] != 900.0 {
		t.Fatalf("b: exit %d, %v; want the 100 lines of a's invoices rejected", code, sb)
	}
	reasons := rejectReasons(t, sb["rejects_file"].(string))
	want := fmt.Sprintf("duplicate invoice INV-1-0 from Vendor 0, imported by run %d (a.csv)", int(sa["run_id"].(float64)))
	if len(reasons) != 100 || reasons[0] != want {
		t.Errorf("b's rejects: %d, the first %q; want 100, the first %q", len(reasons), reasons[0], want)
	}
	pgtest.CheckInvariant(t, conn, sb["source_key"].(string), b.Lines, sb["rejects_file"].(string))

	// The same file with one more newline is another source, of the same
	// invoices: every line is a duplicate.
	c := filepath.Join(dir, "a-again.csv")
	data, err := os.ReadFile(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", c)
	sc := p.summary(t)
	if code != 1 || sc["status"] != "rejected" || !strings.Contains(sc["error"].(string), "duplicate invoice, imported by another run") {
		t.Fatalf("a re-sent with a newline: exit %d, %v; want rejected, naming duplicate invoices", code, sc)
	}
	pgtest.CheckInvariant(t, conn, sa["source_key"].(string), a.Lines, "")
	pgtest.CheckInvariant(t, conn, sc["source_key"].(string), a.Lines, sc["rejects_file"].(string))
	var total string
	if err := conn.QueryRow(context.Background(), `SELECT count(*)::text FROM transactions`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != "2900" {
		t.Errorf("%s transactions, want 2000 of a and 900 of b", total)
	}
}

// An invoice re-sent under another spelling of its vendor, which item
// mappings take for the same ("U.S. Foods", "US  Foods", "US-Foods"), is
// a duplicate too; reverted, the first run frees it under every spelling.
func TestResentInvoiceUnderAnotherSpellingOfItsVendor(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	head := "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	a := filepath.Join(dir, "a.csv")
	b := filepath.Join(dir, "b.csv")
	if err := os.WriteFile(a, []byte(head+"P-1,2026-01-05,U.S. Foods,K1,Apples Gala,1,ea,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := head
	for _, v := range []string{"US Foods", "US  Foods", "US-Foods", "us foods.", "U.S. FOODS", "US\u00a0Foods", "U\u200bS Foods"} {
		body += "P-1,2026-01-05," + v + ",K1,Apples Gala,1,ea,1\n"
	}
	body += "P-1\u200b,2026-01-05,US Foods,K1,Apples Gala,1,ea,1\n" // a zero-width space after the number
	body += "P-2,2026-01-05,US Foods,K1,Apples Gala,2,ea,1\n"
	if err := os.WriteFile(b, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", a)
	if code != 0 {
		t.Fatalf("a: exit %d\n%s", code, outputs(p))
	}
	runA := int64(p.summary(t)["run_id"].(float64))
	// The dry run says the same, of b alone, and of a then b in a fresh
	// schema, where a's invoices are the client's to tell.
	for _, c := range []struct {
		cfg   store.Config
		files []string
	}{{cfg, []string{b}}, {pgtest.Schema(t), []string{a, b}}} {
		p, _ := runBin(t, c.cfg, append([]string{"dryrun", "--output", "json"}, c.files...)...)
		out := strings.Split(strings.TrimSpace(p.stdout.String()), "\n")
		var s map[string]any
		if err := json.Unmarshal([]byte(out[len(out)-1]), &s); err != nil || s["rows_rejected"] != 8.0 {
			t.Errorf("dry run of %v: %v (%v); want b's 8 lines of P-1 rejected", c.files, s, err)
		}
	}
	for _, writers := range []string{"1", "2"} {
		p, code = runBin(t, cfg, "import", "--output", "json", "--writers", writers, "--rejects", filepath.Join(dir, "b"+writers+".rejects.csv"), b)
		s := p.summary(t)
		if code != 3 || s["rows_rejected"] != 8.0 || s["rows_imported"] != 1.0 {
			t.Fatalf("b, %s writers: exit %d, %v; want P-1's 8 lines rejected, P-2 imported", writers, code, s)
		}
		for _, r := range rejectReasons(t, s["rejects_file"].(string)) {
			if !strings.HasPrefix(r, "duplicate invoice P-1 from ") || !strings.HasSuffix(r, fmt.Sprintf("imported by run %d (a.csv)", runA)) {
				t.Errorf("b's reject %q: want a duplicate of run %d's invoice", r, runA)
			}
		}
		if _, code := runBin(t, cfg, "revert", fmt.Sprint(int64(s["run_id"].(float64)))); code != 0 {
			t.Fatalf("revert b: exit %d", code)
		}
	}
	pgtest.CheckQuantities(t, conn)

	if p, code := runBin(t, cfg, "revert", fmt.Sprint(runA)); code != 0 {
		t.Fatalf("revert a: exit %d\n%s", code, outputs(p))
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM invoices`); n != 0 {
		t.Errorf("%d invoices left after reverting every run", n)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", b)
	if s := p.summary(t); code != 0 || s["rows_imported"] != 9.0 {
		t.Fatalf("b after a was reverted: exit %d, %v; want its 9 lines imported, of two invoices", code, s)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM invoices`); n != 2 {
		t.Errorf("%d invoices, want P-1 and P-2 once each", n)
	}
	pgtest.CheckQuantities(t, conn)
}

// Where the database keys vendors other than Go does (lower() of a
// database not in UTF-8 folds only ASCII), each spelling of an invoice's
// vendor is claimed as the database keys it: a line re-sent under the
// second spelling is a duplicate too. The database's key is made the
// vendor as written here, which no Go key is.
func TestEverySpellingOfAnInvoiceIsClaimed(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	if _, err := conn.Exec(context.Background(), `CREATE OR REPLACE FUNCTION invoice_vendor(vendor text) RETURNS text
		LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT vendor $$`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	head := "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	first := writeCSV(t, dir, "e1.csv", head+"INV-9,2026-01-05,Café Élan,CE-1,Basil,1,ea,1\nINV-9,2026-01-05,CAFÉ ÉLAN,CE-2,Basil,1,ea,1\n")
	again := writeCSV(t, dir, "e2.csv", head+"INV-9,2026-01-05,CAFÉ ÉLAN,CE-2,Basil,1,ea,1\n")
	for _, writers := range []string{"1", "2"} {
		p, code := runBin(t, cfg, "import", "--force", "--writers", writers, "--output", "json", first)
		if code != 0 {
			t.Fatalf("e1: exit %d\n%s", code, outputs(p))
		}
		runID := p.summary(t)["run_id"]
		p, code = runBin(t, cfg, "import", "--writers", writers, "--output", "json", again)
		if s := p.summary(t); code != 1 || s["rows_rejected"] != 1.0 {
			t.Errorf("%s writers: e2: exit %d, %v; want its line rejected as a duplicate", writers, code, s)
		}
		for _, run := range []any{runID, p.summary(t)["run_id"]} {
			if p, code := runBin(t, cfg, "revert", fmt.Sprint(run)); code != 0 {
				t.Fatalf("revert %v: exit %d\n%s", run, code, outputs(p))
			}
		}
	}
	pgtest.CheckQuantities(t, conn)
}

// A revert reads the invoice numbers of lines imported before they were
// read without the characters that show nothing: an invoice whose lines
// another run holds, so written, passes to that run, not freed.
func TestRevertReadsOldInvoiceNumbersAsKeys(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	head := "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	a := writeCSV(t, dir, "za.csv", head+"Q-1,2026-01-05,Sysco,K1,Flour,1,ea,1\n")
	b := writeCSV(t, dir, "zb.csv", head+"Q-1,2026-01-05,Sysco,K1,Flour,2,ea,1\n")
	var runs []string
	for _, args := range [][]string{{a}, {"--force", b}} {
		p, code := runBin(t, cfg, append([]string{"import", "--output", "json"}, args...)...)
		if code != 0 {
			t.Fatalf("import %v: exit %d\n%s", args, code, outputs(p))
		}
		runs = append(runs, fmt.Sprint(p.summary(t)["run_id"]))
	}
	// As a version before stored the second run's line: with a zero-width
	// space after its number.
	if _, err := conn.Exec(context.Background(), `UPDATE transactions SET invoice_number = invoice_number || E'\u200b' WHERE run_id = $1::bigint`, runs[1]); err != nil {
		t.Fatal(err)
	}
	if p, code := runBin(t, cfg, "revert", runs[0]); code != 0 {
		t.Fatalf("revert %s: exit %d\n%s", runs[0], code, outputs(p))
	}
	if owner := queryInt(t, conn, `SELECT coalesce(max(run_id), 0) FROM invoices WHERE invoice_number = 'Q-1'`); fmt.Sprint(owner) != runs[1] {
		t.Errorf("invoice Q-1 is run %d's, want run %s's, which holds a line of it", owner, runs[1])
	}
	pgtest.CheckQuantities(t, conn)
}

// An invoice re-sent with new descriptions leaves no item behind: its
// lines are refused as duplicates after they were resolved, and the items
// they created go at the run's end, unless a line imported uses one, or
// another import of the account is running (it may have resolved lines to
// one already).
func TestResentInvoiceLeavesNoItems(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name string, lines ...string) string {
		path := filepath.Join(dir, name)
		data := "invoice_number,invoice_date,vendor,description,quantity,unit,unit_price\n" + strings.Join(lines, "\n") + "\n"
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	items := func() []string {
		rows, err := conn.Query(ctx, `SELECT name FROM inventory_items ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	a := write("a.csv", "INV-1,2026-11-01,Sysco,Roma Tomatoes 25 lb,2,cs,20.00", "INV-1,2026-11-01,Sysco,Yellow Onions 50 lb,1,cs,30.00")
	if p, code := runBin(t, cfg, "import", "--output", "json", a); code != 0 {
		t.Fatalf("a: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	// INV-1 again, with two new descriptions: the first of them is also
	// the line of a new invoice, which keeps its item.
	b := write("b.csv", "INV-1,2026-11-01,Sysco,Roma Tomatoes 25 lb,2,cs,20.00", "INV-1,2026-11-01,Sysco,Red Bell Peppers 11 lb,1,cs,30.00",
		"INV-1,2026-11-01,Sysco,Green Cabbage 50 lb,1,cs,30.00", "INV-2,2026-11-02,Sysco,Green Cabbage 50 lb,3,cs,30.00")
	// A dry run tells the duplicates before: the same counts, the same
	// lines and reasons in its rejects file as the import's, and the one
	// item the import keeps.
	dryRejects := filepath.Join(dir, "b.dry.rejects.csv")
	p, code := runBin(t, cfg, "dryrun", "--output", "json", "--rejects", dryRejects, b)
	if sd := p.summary(t); code != 3 || sd["rows_imported"] != 1.0 || sd["rows_rejected"] != 3.0 || sd["items_created"] != 1.0 {
		t.Errorf("dry run of b: exit %d, %v; want 1 line imported, 3 rejected as duplicates, 1 item created", code, sd)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", b)
	sb := p.summary(t)
	if code != 3 || sb["rows_rejected"] != 3.0 || sb["items_created"] != 1.0 {
		t.Fatalf("b: exit %d, %v; want 3 lines rejected as duplicates, 1 item created", code, sb)
	}
	want := []string{"Green Cabbage 50 lb", "Roma Tomatoes 25 lb", "Yellow Onions 50 lb"}
	if got := items(); !slices.Equal(got, want) {
		t.Errorf("items after b: %q, want %q", got, want)
	}
	var created int64
	if err := conn.QueryRow(ctx, `SELECT items_created FROM runs WHERE id = $1`, int64(sb["run_id"].(float64))).Scan(&created); err != nil || created != 1 {
		t.Errorf("b's run: %d items created (%v), want 1", created, err)
	}
	pgtest.CheckInvariant(t, conn, sb["source_key"].(string), []int{2, 3, 4, 5}, sb["rejects_file"].(string))
	// The same rejects file but for _run: a dry run's rejects are of no run.
	dry, real := readCSV(t, dryRejects), readCSV(t, sb["rejects_file"].(string))
	for _, rec := range real[1:] {
		rec[slices.Index(real[0], "_run")] = ""
	}
	if !slices.EqualFunc(dry, real, slices.Equal) || !strings.HasPrefix(dry[1][len(dry[1])-1], "duplicate invoice INV-1 from Sysco, imported by run") {
		t.Errorf("dry run's rejects file:\n%q\nimport's:\n%q", dry, real)
	}

	// While another import of the account runs (its lock held shared, as
	// an import holds it), the item stays, and counts as created.
	lock := pgtest.Conn(t, cfg)
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock_shared(hashtext('batchimport account ' || $1), hashtext('default'))`, cfg.Schema); err != nil {
		t.Fatal(err)
	}
	c := write("c.csv", "INV-1,2026-11-01,Sysco,Iceberg Lettuce 24 ct,1,cs,30.00")
	p, _ = runBin(t, cfg, "import", "--output", "json", c)
	if sc := p.summary(t); sc["status"] != "rejected" || sc["items_created"] != 1.0 {
		t.Fatalf("c beside another import: %v; want rejected, 1 item created", sc)
	}
	if got := items(); !slices.Contains(got, "Iceberg Lettuce 24 ct") {
		t.Errorf("items after c beside another import: %q, want its item kept", got)
	}
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}

	// Nor while a run of another account is running: with
	// --allow-account, it may have resolved lines to the item.
	if _, err := conn.Exec(ctx, `INSERT INTO import_runs (source_key, source_name, account, status) VALUES ('other', 'other.csv', 'other', 'running')`); err != nil {
		t.Fatal(err)
	}
	d := write("d.csv", "INV-1,2026-11-01,Sysco,Savoy Cabbage 40 lb,1,cs,30.00")
	p, _ = runBin(t, cfg, "import", "--output", "json", d)
	if sd := p.summary(t); sd["status"] != "rejected" || sd["items_created"] != 1.0 || !slices.Contains(items(), "Savoy Cabbage 40 lb") {
		t.Errorf("d beside a running run of another account: %v, items %q; want its item kept", sd, items())
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM item_mappings m JOIN inventory_items i ON i.account = m.account AND i.id = m.item_id
		WHERE i.name IN ('Red Bell Peppers 11 lb')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("mappings of the item dropped: %d (%v), want none", n, err)
	}
}

// A file imported while it was still being uploaded, then the complete
// file: no line is imported twice, and every line of the complete file is
// imported or rejected as a duplicate.
func TestPartialUploadThenFullFile(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	full := testgen.CSV(t, dir, "may.csv", testgen.Spec{Rows: 3000, BadEvery: 97, Variant: 3})
	data, err := os.ReadFile(full.Path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut after the record that starts at 60% of the lines, mid-invoice.
	cut := full.Lines[1807] - 1 // lines before record 1807
	end := 0
	for n := 0; n < cut; n++ {
		end += strings.IndexByte(string(data[end:]), '\n') + 1
	}
	partial := filepath.Join(dir, "may.partial.csv")
	if err := os.WriteFile(partial, data[:end], 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--output", "json", partial)
	if code != 3 {
		t.Fatalf("partial: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	p, code = runBin(t, cfg, "import", "--output", "json", full.Path)
	s := p.summary(t)
	if code != 3 || s["rows_read"] != 3000.0 {
		t.Fatalf("full: exit %d, %v", code, s)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), full.Lines, s["rejects_file"].(string))
	var twice int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT line_no FROM transactions GROUP BY line_no HAVING count(*) > 1) d`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice != 0 {
		t.Errorf("%d lines imported twice", twice)
	}
	// Every reject is a bad line of the file, or a line of an invoice the
	// partial upload began.
	path := s["rejects_file"].(string)
	lines, reasons, dups := pgtest.RejectsColumn(t, path, "_line"), rejectReasons(t, path), 0
	for i, r := range reasons {
		line, _ := strconv.Atoi(lines[i])
		switch {
		case strings.HasPrefix(r, "duplicate invoice "):
			dups++
		case full.Bad[line] == "":
			t.Errorf("line %d of the full file rejected: %q", line, r)
		}
	}
	if dups == 0 {
		t.Error("no line of the full file was a duplicate of the partial upload's")
	}
}

// A rejects file fixed and imported, then fixed again and imported again:
// each fixed record is imported once.
func TestFixedRejectsImportedOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "june.csv", testgen.Spec{Rows: 2000, BadEvery: 40, Variant: 4})
	p, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	first := p.summary(t)
	if code != 3 {
		t.Fatalf("import: exit %d, %v", code, first)
	}
	rejects := first["rejects_file"].(string)
	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	dates := strings.Count(string(data), ",2026-02-30,") // rows, not the _error that quotes the date
	fix := func(name, date string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "2026-02-30", date)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Imported for another account, the fixed records take back nothing:
	// a rejects file cannot carry rows into another account's invoices.
	p, code = runBin(t, cfg, "import", "--output", "json", "--account", "intruder", fix("june.elsewhere.csv", "2026-02-26"))
	elsewhere := p.summary(t)
	refused := 0
	for _, r := range rejectReasons(t, elsewhere["rejects_file"].(string)) {
		if strings.Contains(r, `no rejected record of that run in account "intruder"`) {
			refused++
		}
	}
	if code != 1 || elsewhere["rows_imported"] != 0.0 || refused != dates {
		t.Fatalf("fixed rejects for another account: exit %d, %v, %d refused for the account; want the %d fixed refused", code, elsewhere, refused, dates)
	}
	// A dry run of each file tells what its import then does.
	dry := func(path string) (map[string]any, int) {
		p, code := runBin(t, cfg, "dryrun", "--output", "json", path)
		return p.summary(t), code
	}
	agrees := func(what string, d map[string]any, dcode int, s map[string]any, code int) {
		t.Helper()
		for _, k := range []string{"rows_imported", "rows_rejected", "status"} {
			if d[k] != s[k] || dcode != code {
				t.Errorf("%s: dry run exit %d, %v; import exit %d, %v", what, dcode, d, code, s)
				return
			}
		}
	}
	// Dry-run together, the second file's fixed records were taken back
	// by the first.
	both, _ := runBin(t, cfg, "dryrun", "--output", "json", fix("june.fixed.csv", "2026-02-28"), fix("june.fixed-again.csv", "2026-02-27"))
	if s := jsonLines(t, both); len(s) != 2 || s[0]["rows_imported"] != float64(dates) || s[1]["rows_imported"] != 0.0 ||
		!strings.Contains(fmt.Sprint(s[1]["error"]), "already taken back") {
		t.Errorf("dry run of both fixed files: %v", s)
	}
	d, dcode := dry(fix("june.fixed.csv", "2026-02-28"))
	p, code = runBin(t, cfg, "import", "--output", "json", fix("june.fixed.csv", "2026-02-28"))
	fixed := p.summary(t)
	if code != 3 || fixed["rows_imported"] != float64(dates) {
		t.Fatalf("fixed rejects: exit %d, %v; want the %d fixed dates imported, the rest rejected again", code, fixed, dates)
	}
	agrees("fixed rejects", d, dcode, fixed, code)
	d, dcode = dry(fix("june.fixed-again.csv", "2026-02-27"))
	p, code = runBin(t, cfg, "import", "--output", "json", fix("june.fixed-again.csv", "2026-02-27"))
	again := p.summary(t)
	if code != 1 || again["rows_imported"] != 0.0 || !strings.Contains(again["error"].(string), "already taken back") {
		t.Fatalf("the same rejects fixed again: exit %d, %v; want nothing imported", code, again)
	}
	agrees("the same rejects fixed again", d, dcode, again, code)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM transactions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != g.Good+dates {
		t.Errorf("%d transactions, want %d good lines + %d fixed", n, g.Good, dates)
	}
	var unresolved int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM rejects WHERE run_id = $1 AND resolved_by IS NULL`, int64(first["run_id"].(float64))).Scan(&unresolved); err != nil {
		t.Fatal(err)
	}
	if unresolved != 0 {
		t.Errorf("%d rejects of the first run still unresolved, want none: each was taken back by the fixed import", unresolved)
	}
	pgtest.CheckInvariant(t, conn, first["source_key"].(string), g.Lines, "")
	pgtest.CheckInvariant(t, conn, fixed["source_key"].(string), pgtest.RecordLines(t, filepath.Join(dir, "june.fixed.csv")), fixed["rejects_file"].(string))
}

// A rejects file imported unfixed twice: the second run supersedes the
// first, whose every record was rejected, and takes back the rejects it
// had taken. Fixed then, the records go home to the first run's invoices,
// not refused as duplicates of them.
func TestRejectsRetriedUnfixedThenFixed(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "july.csv", testgen.Spec{Rows: 400, BadEvery: 40, Variant: 5})
	p, code := runBin(t, cfg, "import", "--output", "json", g.Path)
	first := p.summary(t)
	if code != 3 {
		t.Fatalf("import: exit %d, %v", code, first)
	}
	data, err := os.ReadFile(first["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	retry := filepath.Join(dir, "retry.csv")
	if err := os.WriteFile(retry, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	for i := range 2 {
		p, code = runBin(t, cfg, "import", "--output", "json", "--rejects", filepath.Join(dir, fmt.Sprintf("retry-%d.rejects.csv", i)), retry)
		if last = p.summary(t); code != 1 || last["status"] != "rejected" {
			t.Fatalf("unfixed retry %d: exit %d, %v; want every record rejected again", i, code, last)
		}
	}
	again, err := os.ReadFile(last["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	dates := strings.Count(string(again), ",2026-02-30,")
	fixed := filepath.Join(dir, "retry.fixed.csv")
	if err := os.WriteFile(fixed, []byte(strings.ReplaceAll(string(again), "2026-02-30", "2026-02-28")), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code = runBin(t, cfg, "import", "--output", "json", fixed)
	if s := p.summary(t); dates == 0 || s["rows_imported"] != float64(dates) {
		t.Fatalf("the fixed rejects: exit %d, %v; want the %d fixed dates imported", code, s, dates)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM transactions`); n != int64(g.Good+dates) {
		t.Errorf("%d transactions, want %d good lines + %d fixed", n, g.Good, dates)
	}
	if n := queryInt(t, conn, `SELECT count(DISTINCT run_id) FROM invoices`); n != 1 {
		t.Errorf("invoices owned by %d runs, want the first run's only", n)
	}
}

// rejectReasons reads the _error column of a CSV rejects file.
func rejectReasons(t *testing.T, path string) []string {
	t.Helper()
	return pgtest.RejectsColumn(t, path, "_error")
}

// A fixed record imported once, then fixed again with a new mistake: the
// second copy is rejected, and resolved as it is stored, so that fixing
// that reject imports nothing a second time.
func TestRejectFixedTwiceComesHomeOnce(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	first := imported(t, cfg, 3, writeLines(t, dir, "f.csv", "INV-1,2026-01-05,Sysco,S1,Roma Tomatoes,5,lb,1.10\n"+
		",2026-01-05,Sysco,S2,Whole Milk,2,gal,3.20\n"))
	rejects, err := os.ReadFile(first["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	fixed := func(name, from, to string) string {
		return writeCSV(t, dir, name, strings.Replace(string(rejects), from, to, 1))
	}
	imported(t, cfg, 0, fixed("fixA.csv", "\n,2026-01-05,", "\nINV-9,2026-01-05,"))
	again := imported(t, cfg, 1, fixed("fixB.csv", "\n,2026-01-05,", "\nINV-09,2026-13-05,"))
	run := int64(again["run_id"].(float64))
	if n := queryInt(t, conn, `SELECT count(*) FROM rejects WHERE run_id = $1 AND resolved_by = $1 AND reason LIKE '%already taken back%'`, run); n != 1 {
		t.Fatalf("the second fix, rejected for its date: %d rejects resolved as taken back already, want 1", n)
	}
	bi(t, cfg, 0, "rejects", fmt.Sprint(run), "-o", filepath.Join(dir, "rT.csv"))
	data, err := os.ReadFile(filepath.Join(dir, "rT.csv"))
	if err != nil {
		t.Fatal(err)
	}
	last := imported(t, cfg, 1, writeCSV(t, dir, "fixC.csv", strings.ReplaceAll(string(data), "2026-13-05", "2026-01-05")))
	if last["rows_imported"] != 0.0 {
		t.Errorf("the second fix fixed once more: %v; want nothing imported", last)
	}
	checkStock(t, conn, map[string]string{"Roma Tomatoes lb": "5.000", "Whole Milk gal": "2.000"})
}

// A record rejected, fixed badly (run S rejects it again, for the first
// run's invoices), then fixed well from S's rejects (run T): S cannot be
// reverted while T stands, for that would give the first run's reject
// back, and the record would come home twice.
func TestRevertRefusedWhileARejectItTookCameHome(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	first := imported(t, cfg, 3, writeLines(t, dir, "f.csv", "INV-1,2026-01-05,Sysco,S1,Roma Tomatoes,5,lb,1.10\n"+
		"INV-1,2026-01-05,Sysco,S2,Whole Milk,0,gal,3.20\n"))
	rejects, err := os.ReadFile(first["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(strings.Replace(string(rejects), "Whole Milk,0,", "Whole Milk,2,", 1), "2026-01-05", "2026-13-05", 1)
	s := imported(t, cfg, 1, writeCSV(t, dir, "fix1.csv", bad))
	sRun := fmt.Sprint(int64(s["run_id"].(float64)))
	bi(t, cfg, 0, "rejects", sRun, "-o", filepath.Join(dir, "r2.csv"))
	data, err := os.ReadFile(filepath.Join(dir, "r2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 0, writeCSV(t, dir, "fix2.csv", strings.ReplaceAll(string(data), "2026-13-05", "2026-01-05")))
	if p := bi(t, cfg, 1, "revert", sRun); !strings.Contains(p.stderr.String(), "were imported by run") {
		t.Errorf("revert of run %s: %q; want it refused, naming the run that imported its reject", sRun, p.stderr.String())
	}
	again := imported(t, cfg, 1, writeCSV(t, dir, "fix3.csv", strings.Replace(string(rejects), "Whole Milk,0,", "Whole Milk,2,", 1)))
	if again["rows_imported"] != 0.0 {
		t.Errorf("the first rejects fixed again: %v; want nothing imported", again)
	}
	checkStock(t, conn, map[string]string{"Roma Tomatoes lb": "5.000", "Whole Milk gal": "2.000"})
}

// A source whose every record was rejected, one of them fixed and imported
// since: imported again, the source would bring that record a second
// time, so it is refused, naming the run that imported it.
func TestSourceAgainRefusedAfterItsRejectCameHome(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	f := writeLines(t, dir, "f.csv", "INV-1,2026-01-05,Sysco,S2,Whole Milk,0,gal,3.20\n")
	first := imported(t, cfg, 1, f)
	rejects, err := os.ReadFile(first["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 0, writeCSV(t, dir, "fixA.csv", strings.Replace(string(rejects), "Whole Milk,0,", "Whole Milk,2,", 1)))
	again := imported(t, cfg, 1, f)
	if msg, _ := again["error"].(string); !strings.Contains(msg, "would import them a second time") {
		t.Errorf("the source again: %v; want it refused, naming the run that imported its fixed reject", again)
	}
	checkStock(t, conn, map[string]string{"Whole Milk gal": "2.000"})
}

// An invoice whose only line was rejected, fixed, and came home, claimed
// for the first run: reverting the fix frees it, and the invoice sent
// again is imported, not refused as a duplicate of a run with none of it.
func TestRevertOfAFixFreesTheInvoiceItClaimed(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	first := imported(t, cfg, 3, writeLines(t, dir, "f.csv", "INV-1,2026-01-05,Sysco,S1,Roma Tomatoes,5,lb,1.10\n"+
		"INV-2,2026-01-05,Sysco,S2,Whole Milk,0,gal,3.20\n"))
	rejects, err := os.ReadFile(first["rejects_file"].(string))
	if err != nil {
		t.Fatal(err)
	}
	fix := imported(t, cfg, 0, writeCSV(t, dir, "fix.csv", strings.Replace(string(rejects), "Whole Milk,0,", "Whole Milk,2,", 1)))
	bi(t, cfg, 0, "revert", fmt.Sprint(int64(fix["run_id"].(float64))))
	if n := queryInt(t, conn, `SELECT count(*) FROM invoices WHERE invoice_number = 'INV-2'`); n != 0 {
		t.Errorf("INV-2 still owned after the fix that claimed it was reverted")
	}
	imported(t, cfg, 0, writeLines(t, dir, "g.csv", "INV-2,2026-01-05,Sysco,S2,Whole Milk,2,gal,3.20\n"))
	checkStock(t, conn, map[string]string{"Roma Tomatoes lb": "5.000", "Whole Milk gal": "2.000"})
}

// A run killed, one of its rejects fixed and imported meanwhile, then
// resumed past --max-rejects: reverted, it would leave that record imported
// by the fix with nothing of its own run; it ends failed instead, saying
// which run to revert first.
func TestMaxRejectsKeepsARunWhoseRejectCameHome(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("INV-0,2026-01-05,Sysco,S2,Whole Milk,0,gal,3.20\n")
	for i := range 6000 {
		fmt.Fprintf(&b, "INV-%d,2026-01-05,Sysco,S1,Roma Tomatoes,1,lb,%d.0\n", 1+i/10, i)
	}
	for i := range 5 {
		fmt.Fprintf(&b, "INV-X%d,2026-01-05,Sysco,S1,Roma Tomatoes,0,lb,1.0\n", i)
	}
	f := writeLines(t, dir, "f.csv", b.String())
	args := []string{"--max-rejects", "3", "--writers", "1", "--chunk-size", "20", "--chunks-per-commit", "1"}
	run := killAfterCommit(t, cfg, conn, "maxrejects", append(append([]string{"import"}, args...), f)...)
	bi(t, cfg, 0, "rejects", fmt.Sprint(run), "-o", filepath.Join(dir, "r.csv"))
	data, err := os.ReadFile(filepath.Join(dir, "r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 0, writeCSV(t, dir, "fix.csv", strings.Replace(string(data), "Whole Milk,0,", "Whole Milk,2,", 1)))
	s := imported(t, cfg, 1, f, args...)
	if msg, _ := s["error"].(string); s["status"] != "failed" || !strings.Contains(msg, "so it is not reverted") {
		t.Errorf("the resumed run past --max-rejects: %v; want it failed, not reverted, naming the fix's run", s)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE description = 'Whole Milk'`); n != 1 {
		t.Errorf("Whole Milk imported %d times, want once", n)
	}
}

// A dry run of several files tells what importing them one after another
// does: an invoice of an earlier file is a duplicate in a later one.
func TestDryRunOfSeveralFiles(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	t1 := writeLines(t, dir, "t1.csv", "T-1,2026-11-01,Sysco,,Roma Tomatoes 25 lb,2,cs,20.00\nT-2,2026-11-01,Sysco,,Yellow Onions 50 lb,1,cs,30.00\n")
	t2 := writeLines(t, dir, "t2.csv", "T-1,2026-11-01,SYSCO,,Roma Tomatoes 25 lb,2,cs,20.00\nT-3,2026-11-02,Sysco,,Green Cabbage 50 lb,1,cs,30.00\n")
	dryRunTellsImport(t, cfg, "[success 2 0 partial_success 1 1 exit 3]", t1, t2)

	// A fixed record claims its invoice for the run it came from; a file
	// reverted for --max-rejects claims nothing.
	seed := imported(t, cfg, 3, writeLines(t, dir, "seed.csv", "S-8,2026-11-03,Sysco,,Leeks,1,cs,20.00\nS-9,2026-11-03,Sysco,,Garlic,x,lb,2.00\n"))
	fixed := writeCSV(t, dir, "seed.fixed.csv", strings.Replace(readFile(t, seed["rejects_file"].(string)), ",x,", ",3,", 1))
	plain := writeLines(t, dir, "plain.csv", "S-9,2026-11-03,Sysco,,Garlic,9,lb,2.00\n")
	bad := writeLines(t, dir, "bad.csv", "S-7,2026-11-04,Sysco,,Chives,x,bunch,1.00\nS-6,2026-11-04,Sysco,,Dill,y,bunch,1.00\nS-5,2026-11-04,Sysco,,Mint,1,bunch,1.00\n")
	again := writeLines(t, dir, "again.csv", "S-5,2026-11-04,Sysco,,Mint,1,bunch,1.00\n")
	// A file given twice, or two copies of it, is imported once: the
	// later is skipped, as already imported.
	twice := writeLines(t, dir, "twice.csv", "D-1,2026-11-05,Sysco,,Basil,1,bunch,1.00\n")
	copied := writeLines(t, dir, "copied.csv", "D-2,2026-11-05,Sysco,,Sage,1,bunch,1.00\n")
	copy2 := writeLines(t, dir, "copied-again.csv", "D-2,2026-11-05,Sysco,,Sage,1,bunch,1.00\n")
	dryRunTellsImport(t, cfg, "[success 1 0 rejected 0 1 exit 1]", fixed, plain)
	dryRunTellsImport(t, cfg, "[failed 1 2 success 1 0 exit 1]", "--max-rejects", "1", bad, again)
	dryRunTellsImport(t, cfg, "[success 1 0 skipped 0 0 exit 0]", twice, twice)
	dryRunTellsImport(t, cfg, "[success 1 0 skipped 0 0 exit 0]", copied, copy2)
}

// dryRunTellsImport runs dryrun, then import, with args, and checks that
// both say want of each input (status, rows imported and rejected) and
// exit alike.
func dryRunTellsImport(t *testing.T, cfg store.Config, want string, args ...string) {
	t.Helper()
	var got [2][]string
	for i, cmd := range []string{"dryrun", "import"} {
		p, code := runBin(t, cfg, append([]string{cmd, "--output", "json"}, args...)...)
		for _, s := range jsonLines(t, p) {
			got[i] = append(got[i], fmt.Sprintf("%v %v %v", s["status"], s["rows_imported"], s["rows_rejected"]))
		}
		got[i] = append(got[i], fmt.Sprint("exit ", code))
	}
	if fmt.Sprint(got[0]) != want || fmt.Sprint(got[1]) != want {
		t.Errorf("%v: dry run %v, import %v; want both %s", args, got[0], got[1], want)
	}
}

// A dry run tells what the database would refuse, or the import fail on,
// that no line shows alone: stock summed past what it holds, over lines
// and files; a rejected run superseded after its fixed records were
// imported. A run resumed counts what it did before.
func TestDryRunSaysWhatImportDoes(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	// Stock: two lines of 6 × 10^14 ea; 9 × 10^14 in stock, then 2 × 10^14
	// more in another file; two of -6 × 10^14; 12 ea in stock, then
	// 83,333,333,333,333 dz and 1 ea.
	dryRunTellsImport(t, cfg, "[partial_success 1 1 exit 3]", writeLines(t, dir, "two.csv",
		"C-1,2026-11-01,Sysco,SALT-1,Kosher Salt,600000000000000,ea,0.01\nC-2,2026-11-01,Sysco,SALT-1,Kosher Salt,600000000000000,ea,0.01\n"))
	dryRunTellsImport(t, cfg, "[success 1 0 partial_success 1 1 exit 3]",
		writeLines(t, dir, "big1.csv", "B-1,2026-11-01,Sysco,PEP-1,Black Pepper,900000000000000,ea,0.01\n"),
		writeLines(t, dir, "big2.csv", "B-2,2026-11-02,Sysco,PEP-1,Black Pepper,200000000000000,ea,0.01\nB-3,2026-11-02,Sysco,CUM-1,Cumin,5,ea,1.00\n"))
	dryRunTellsImport(t, cfg, "[partial_success 1 1 exit 3]", writeLines(t, dir, "neg.csv",
		"N-1,2026-11-01,Sysco,ANI-1,Anise,-600000000000000,ea,0.01\nN-2,2026-11-01,Sysco,ANI-1,Anise,-600000000000000,ea,0.01\n"))
	// A transaction's rows the stock cannot take go again in halves: of
	// 5, 6, 9 and -9 × 10^14, the 6 alone is refused; and over three
	// files of 3, 3 and -1 × 10^14, the second file's second line, then
	// the third file's first.
	dryRunTellsImport(t, cfg, "[partial_success 3 1 exit 3]", writeLines(t, dir, "halves.csv",
		"Q-1,2026-11-01,Sysco,BB-1,Beef Brisket,500000000000000,lb,1.00\nQ-1,2026-11-01,Sysco,BB-1,Beef Brisket,600000000000000,lb,1.00\n"+
			"Q-1,2026-11-01,Sysco,BB-1,Beef Brisket,900000000000000,lb,1.00\nQ-1,2026-11-01,Sysco,BB-1,Beef Brisket,-900000000000000,lb,1.00\n"))
	var three []string
	for i := range 3 {
		three = append(three, writeLines(t, dir, fmt.Sprintf("mace%d.csv", i), fmt.Sprintf(
			"M-%[1]d,2026-11-01,Sysco,MA-1,Mace,300000000000000,ea,1.00\nM-%[1]d,2026-11-01,Sysco,MA-1,Mace,300000000000000,ea,1.00\nM-%[1]d,2026-11-01,Sysco,MA-1,Mace,-100000000000000,ea,1.00\n", i)))
	}
	dryRunTellsImport(t, cfg, "[success 3 0 partial_success 2 1 partial_success 2 1 exit 3]", three...)
	// Past 10^15 on the way, but not in the sum a transaction adds.
	dryRunTellsImport(t, cfg, "[success 3 0 exit 0]", writeLines(t, dir, "back.csv",
		"K-1,2026-11-01,Sysco,CLO-1,Cloves,600000000000000,ea,0.01\nK-2,2026-11-01,Sysco,CLO-1,Cloves,600000000000000,ea,0.01\nK-3,2026-11-01,Sysco,CLO-1,Cloves,-700000000000000,ea,0.01\n"))
	imported(t, cfg, 0, writeLines(t, dir, "eggs.csv", "E-1,2026-11-01,Sysco,EGG-1,Eggs,12,ea,0.20\n"))
	dryRunTellsImport(t, cfg, "[partial_success 1 1 exit 3]", writeLines(t, dir, "dz.csv",
		"E-2,2026-11-01,Sysco,EGG-1,Eggs,83333333333333,dz,2.40\nE-3,2026-11-01,Sysco,EGG-1,Eggs,1,ea,0.20\n"))

	// A rejected run one of whose records, fixed, came home cannot be
	// superseded: its source imported again (read another way) would
	// import that record a second time.
	eu := writeLines(t, dir, "eu.csv", "F-1,2026-11-01,Metro,FL-1,Flour 25 kg,\"1,5\",cs,20\nF-2,2026-11-01,Metro,SU-1,Sugar 25 kg,\"2,5\",cs,30\n")
	rejected := imported(t, cfg, 1, eu)
	fix := strings.Join(strings.Split(readFile(t, rejected["rejects_file"].(string)), "\n")[:2], "\n") + "\n"
	imported(t, cfg, 0, writeCSV(t, dir, "eu.fixed.csv", strings.Replace(fix, `"1,5"`, "1.5", 1)))
	dryRunTellsImport(t, cfg, "[failed 0 0 exit 1]", "--decimal-separator", ",", eu)
	// One whose records did not come home is superseded, by the first of
	// two files: its record, fixed, in the second no longer comes home.
	eu2 := writeLines(t, dir, "eu2.csv", "G-1,2026-11-01,Metro,FL-1,Flour 25 kg,\"1,5\",cs,20\nG-2,2026-11-01,Metro,SU-1,Sugar 25 kg,\"2,5\",cs,30\n")
	rejected = imported(t, cfg, 1, eu2)
	fix = strings.Join(strings.Split(readFile(t, rejected["rejects_file"].(string)), "\n")[:2], "\n") + "\n"
	late := writeCSV(t, dir, "eu2.fixed.csv", strings.Replace(strings.Replace(fix, `"1,5"`, "2", 1), "G-1,", "G-9,", 1))
	dryRunTellsImport(t, cfg, "[success 2 0 rejected 0 1 exit 1]", "--decimal-separator", ",", eu2, late)
	// Nor is one whose record, fixed, an earlier file takes back.
	eu3 := writeLines(t, dir, "eu3.csv", "H-1,2026-11-01,Metro,FL-1,Flour 25 kg,\"1,5\",cs,20\nH-2,2026-11-01,Metro,SU-1,Sugar 25 kg,\"2,5\",cs,30\n")
	rejected = imported(t, cfg, 1, eu3)
	fix = strings.Join(strings.Split(readFile(t, rejected["rejects_file"].(string)), "\n")[:2], "\n") + "\n"
	early := writeCSV(t, dir, "eu3.fixed.csv", strings.Replace(fix, `"1,5"`, "2", 1))
	dryRunTellsImport(t, cfg, "[success 1 0 failed 0 0 exit 1]", "--decimal-separator", ",", early, eu3)

	// A JSON array broken after three records: the run fails there, and
	// the next, resuming it, has nothing more to read.
	j := filepath.Join(dir, "j.json")
	if err := os.WriteFile(j, []byte(`[{"invoice_number":"J-1","invoice_date":"2026-11-01","vendor":"Sysco","description":"Dill","quantity":2,"unit":"bunch","unit_price":"1.00"},
{"invoice_number":"J-2","invoice_date":"2026-11-01","vendor":"Sysco","description":"Dill","quantity":"x","unit":"bunch","unit_price":"1.00"},
{"invoice_number":"J-3","invoice_date":"2026-11-01","vendor":"Sysco","description":"Dill","quantity":1,"unit":"bunch","unit_price":"1.00"},
{"invoice_number":"J-4" "invoice_date":"2026-11-01"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	imported(t, cfg, 1, j)
	dryRunTellsImport(t, cfg, "[failed 2 1 exit 1]", j)
}

// In a LATIN1 database, a vendor or an invoice number it cannot hold (€)
// rejects the rows of that invoice with the server's SQLSTATE 22P05, not
// the file: the invoice claim is a statement carrying rows.
func TestLatin1DatabaseRejectsInvoicesItCannotHold(t *testing.T) {
	t.Parallel()
	admin := pgtest.Conn(t, store.Config{URL: pgtest.URL(t), Schema: "public"})
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "latin1_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name+` ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	cfg := store.Config{URL: pgtest.URL(t) + " dbname=" + name, Schema: "batchimport"}
	bi(t, cfg, 0, "migrate")
	path := writeLines(t, t.TempDir(), "lat.csv", `L3,2026-01-01,V,,Café,1,ea,1
L3,2026-01-01,Vé€,,Euro,2,ea,1
L3,2026-01-01,V,,Okay,2,ea,1
L€,2026-01-01,V,,Okay,2,ea,1
`)
	s := imported(t, cfg, 3, path)
	if s["rows_imported"] != 2.0 || s["rows_rejected"] != 2.0 {
		t.Fatalf("summary %v; want 2 imported, 2 rejected", s)
	}
	for _, why := range pgtest.RejectsColumn(t, s["rejects_file"].(string), "_error") {
		if !strings.Contains(why, "SQLSTATE 22P05") {
			t.Errorf("reject %q; want the server's 22P05", why)
		}
	}
	conn := pgtest.Conn(t, cfg)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{2, 3, 4, 5}, s["rejects_file"].(string))
}
