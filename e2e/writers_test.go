//go:build unix

package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
)

// parallel makes an import write on four connections, in groups of 1,500
// rows (chunks of 100): many groups in flight at once, and invoices and
// new items that span them.
func parallel(args ...string) []string {
	return append([]string{args[0], "--writers", "4", "--chunk-size", "100", "--chunks-per-commit", "15"}, args[1:]...)
}

// TestWritersAgreeWithOneWriter imports one file with four writers and
// with one, into two schemas: the same rows go to the same items, the
// same records are rejected, and the summaries count alike.
func TestWritersAgreeWithOneWriter(t *testing.T) {
	t.Parallel()
	g := testgen.CSV(t, t.TempDir(), "mixed.csv", testgen.Spec{Rows: 30_000, BadEvery: 89})
	rejects := strings.TrimSuffix(g.Path, ".csv") + ".rejects.csv"
	var views [2]string
	var sums [2]map[string]any
	for i, args := range [][]string{parallel("import", "--output", "json", g.Path), {"import", "--writers", "1", "--chunk-size", "100", "--chunks-per-commit", "15", "--output", "json", g.Path}} {
		cfg := pgtest.Schema(t)
		conn := pgtest.Conn(t, cfg)
		p, code := runBin(t, cfg, args...)
		if code != 3 {
			t.Fatalf("%v: exit %d, want 3 (partial success)\n%s\n%s", args, code, p.stdout.String(), p.stderr.String())
		}
		s := p.summary(t)
		pgtest.CheckInvariant(t, conn, s["source_key"].(string), g.Lines, rejects)
		if s["items_created"] != float64(queryInt(t, conn, `SELECT count(*) FROM inventory_items`)) {
			t.Errorf("%v: summary says %v items created, the database holds %d", args, s["items_created"], queryInt(t, conn, `SELECT count(*) FROM inventory_items`))
		}
		views[i] = rowsView(t, conn)
		if err := os.Remove(rejects); err != nil {
			t.Fatal(err)
		}
		delete(s, "duration_seconds")
		delete(s, "run_id")
		sums[i] = s
	}
	if views[0] != views[1] {
		t.Errorf("four writers and one wrote different rows, items or rejects")
	}
	if fmt.Sprint(sums[0]) != fmt.Sprint(sums[1]) {
		t.Errorf("summaries differ:\nfour writers %v\none writer   %v", sums[0], sums[1])
	}
}

// rowsView is what an import wrote, independent of ids and of the order
// of commits: each row's line and item, each reject's line, each item's
// name and quantity.
func rowsView(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var v string
	err := conn.QueryRow(context.Background(), `SELECT
		(SELECT md5(string_agg(t.line_no || ':' || i.name || ':' || t.base_quantity, ',' ORDER BY t.line_no))
		   FROM transactions t JOIN inventory_items i ON i.account = t.account AND i.id = t.item_id) || ' ' ||
		(SELECT md5(string_agg(line_no || ':' || reason, ',' ORDER BY line_no)) FROM rejects) || ' ' ||
		(SELECT md5(string_agg(name || ':' || quantity, ',' ORDER BY name)) FROM inventory_items)`).Scan(&v)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWritersHoldBackWhatEarlierGroupsWrite imports, with four writers,
// a file whose invoices are scattered over it and whose items are created
// all along it: most groups need an invoice or an item of a group still in
// flight. A trigger refuses some rows, which their groups write again
// carefully. What is written must be what one writer writes.
func TestWritersHoldBackWhatEarlierGroupsWrite(t *testing.T) {
	t.Parallel()
	const rows = 20_000
	var b strings.Builder
	b.WriteString("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n")
	rng := rand.New(rand.NewPCG(7, 7))
	lines := make([]int, rows)
	poisoned := 0
	for i := range rows {
		item := i / 100 // a new item every 100 rows
		if i%100 != 0 {
			item = rng.IntN(item + 1)
		}
		invoice := fmt.Sprintf("S-%d", i*31%97)
		if i%4999 == 17 {
			invoice = fmt.Sprintf("POISON-%d", i)
			poisoned++
		}
		fmt.Fprintf(&b, "%s,2026-05-04,Vendor %d,,Item %d,%d.%03d,ea,1.25\n", invoice, i%3, item, i%17+1, i%1000)
		lines[i] = i + 2
	}
	path := writeCSV(t, t.TempDir(), "scattered.csv", b.String())
	rejects := strings.TrimSuffix(path, ".csv") + ".rejects.csv"
	var views [2]string
	for i, writers := range []string{"4", "1"} {
		cfg := pgtest.Schema(t)
		conn := pgtest.Conn(t, cfg)
		pgtest.RefusePoison(t, conn)
		p, code := runBin(t, cfg, "import", "--writers", writers, "--fuzzy-threshold", "0", "--chunk-size", "100",
			"--chunks-per-commit", "20", "--output", "json", path)
		if code != 3 {
			t.Fatalf("%s writers: exit %d, want 3\n%s", writers, code, outputs(p))
		}
		s := p.summary(t)
		if s["rows_rejected"] != float64(poisoned) || s["items_created"] != float64(rows/100) {
			t.Errorf("%s writers: summary %v, want %d rejected and %d items created", writers, s, poisoned, rows/100)
		}
		pgtest.CheckInvariant(t, conn, s["source_key"].(string), lines, rejects)
		views[i] = rowsView(t, conn)
		if err := os.Remove(rejects); err != nil {
			t.Fatal(err)
		}
	}
	if views[0] != views[1] {
		t.Errorf("four writers and one wrote different rows, items or rejects")
	}
}

// TestWritersHoldBackAFixedRecordTwice imports a rejected record, fixed,
// twice, in two groups (under two invoice numbers): the first group is
// slowed by a trigger, so that the second would take the record back
// first. The second group holds its copy back until the first has
// committed: the first copy is imported, the second rejected, as with one
// writer.
func TestWritersHoldBackAFixedRecordTwice(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price"
	first := writeCSV(t, dir, "first.csv", header+"\nA-1,2026-05-04,Vendor 1,,Item 1,1.2345,ea,1.25\nA-1,2026-05-04,Vendor 1,,Item 2,2,ea,1.25\n")
	if p, code := runBin(t, cfg, "import", "--fuzzy-threshold", "0", first); code != 3 {
		t.Fatalf("first import: exit %d, want 3\n%s", code, outputs(p))
	}
	runID, record := queryInt(t, conn, `SELECT run_id FROM rejects`), queryInt(t, conn, `SELECT record_no FROM rejects`)
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.invoice_number = 'SLOW' THEN PERFORM pg_sleep(1.5); END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER slow BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION slow();`); err != nil {
		t.Fatal(err)
	}

	// Batches of 3,000 records, groups of two: the first group's first
	// batch sleeps, the record is in its second batch, and in the second
	// group's first. Every row is of an item the first import created:
	// no row waits for an item of the first group.
	const rows = 12_000
	var b strings.Builder
	b.WriteString(header + ",_run,_record\n")
	lines := make([]int, rows)
	for i := range rows {
		invoice, qty, origin := fmt.Sprintf("P-%d", i/20), "1", ","
		switch i {
		case 0:
			invoice = "SLOW"
		case 5990, 6010:
			invoice, qty, origin = fmt.Sprintf("FIX-%d", i), "1.234", fmt.Sprintf("%d,%d", runID, record)
		}
		fmt.Fprintf(&b, "%s,2026-05-04,Vendor 1,,Item 2,%s,ea,1.25,%s\n", invoice, qty, origin)
		lines[i] = i + 2
	}
	fixed := writeCSV(t, dir, "fixed.csv", b.String())
	p, code := runBin(t, cfg, "import", "--writers", "2", "--fuzzy-threshold", "0", "--chunk-size", "100",
		"--chunks-per-commit", "60", "--output", "json", fixed)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (the second copy rejected)\n%s", code, outputs(p))
	}
	s := p.summary(t)
	if s["rows_rejected"] != float64(1) {
		t.Errorf("summary %v: want the second copy rejected, alone", s)
	}
	reason := ""
	if err := conn.QueryRow(context.Background(), `SELECT reason FROM rejects WHERE run_id = $1`, int64(s["run_id"].(float64))).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "already taken back") {
		t.Errorf("the second copy was rejected for %q, want: already taken back", reason)
	}
	if strings.Contains(p.stderr.String(), "waited for each other") || strings.Contains(p.stderr.String(), "reading the input again") {
		t.Errorf("the second copy was not held back: the groups waited for each other and the run went back\n%s", p.stderr.String())
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM transactions WHERE invoice_number LIKE 'FIX-%'`); n != 1 {
		t.Errorf("the fixed record was imported %d times, want once", n)
	}
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), lines, strings.TrimSuffix(fixed, ".csv")+".rejects.csv")
}

// TestWritersOfTwoImportsWaitForEachOther runs two imports of one account
// at once, two writers each, that create the same two items in opposite
// orders, slowed by a trigger so that each import's first group waits, in
// the server, for an item the other's second group created, while each
// second group waits for its first to commit: a cycle through four
// transactions of two processes. The server must see it (the wait for the
// group before is for its lock), break it, and both imports complete.
func TestWritersOfTwoImportsWaitForEachOther(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	common := writeCSV(t, dir, "common.csv", header+"C-1,2026-05-04,Vendor 1,,Item Common,1,ea,1.25\n")
	if p, code := runBin(t, cfg, "import", "--fuzzy-threshold", "0", common); code != 0 {
		t.Fatalf("first import: exit %d\n%s", code, outputs(p))
	}
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_sleep(1.5);
			RETURN NEW;
		END $$;
		CREATE TRIGGER slow BEFORE INSERT ON transactions FOR EACH ROW
			WHEN (NEW.invoice_number LIKE 'SLOW%') EXECUTE FUNCTION slow();`); err != nil {
		t.Fatal(err)
	}
	// Groups of 12,000 records in two batches (of 6,000 with two
	// writers): the first batch of each import's first group sleeps; its
	// second batch creates the item the other import's second group
	// creates at once.
	const rows = 24_000
	write := func(name, first, second string) (string, []int) {
		var b strings.Builder
		b.WriteString(header)
		lines := make([]int, rows)
		for i := range rows {
			invoice, item := fmt.Sprintf("%s-%d", name, i/20), "Item Common"
			switch i {
			case 0:
				invoice = "SLOW-" + name
			case 11990:
				item = first
			case 12005:
				item = second
			}
			fmt.Fprintf(&b, "%s,2026-05-04,Vendor 1,,%s,1,ea,1.25\n", invoice, item)
			lines[i] = i + 2
		}
		path := writeCSV(t, dir, name+".csv", b.String())
		return path, lines
	}
	pathA, lines := write("A", "Item Y", "Item X")
	pathB, _ := write("B", "Item X", "Item Y")
	args := func(path string) []string {
		return []string{"import", "--writers", "2", "--fuzzy-threshold", "0", "--chunk-size", "100", "--chunks-per-commit", "120", "--output", "json", path}
	}
	a, b := start(t, cfg, args(pathA)...), start(t, cfg, args(pathB)...)
	broken := false
	for _, p := range []*proc{a, b} {
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit %d, want 0\n%s", code, outputs(p))
		}
		broken = broken || strings.Contains(p.stderr.String(), "waited for each other")
		pgtest.CheckInvariant(t, conn, p.summary(t)["source_key"].(string), lines, "")
	}
	if !broken {
		t.Errorf("neither import saw its groups' waits broken; stderr:\n%s\n%s", a.stderr.String(), b.stderr.String())
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM inventory_items`); n != 3 {
		t.Errorf("%d items, want 3", n)
	}
}

// Two imports that create the same items at once, in opposite file orders,
// each in one transaction, never wait for each other's names: they take
// them in one order (as advisory locks) before they insert them in their
// own, so that ids follow each file.
func TestImportsCreatingItemsInOppositeOrdersNeverDeadlock(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	const items = 2000
	for round := range 3 {
		write := func(name string, reverse bool) (string, []int) {
			var b strings.Builder
			b.WriteString(header)
			lines := make([]int, items)
			for i := range items {
				n := i
				if reverse {
					n = items - 1 - i
				}
				// Letters, not digits: a number may read as a size.
				fmt.Fprintf(&b, "%s-%d-%d,2026-05-04,Vendor 1,,Round %c Widget %c%c%c,1,ea,1.25\n", name, round, i/20,
					'a'+round, 'a'+n/676, 'a'+n/26%26, 'a'+n%26)
				lines[i] = i + 2
			}
			return writeCSV(t, dir, fmt.Sprintf("%s%d.csv", name, round), b.String()), lines
		}
		pathA, lines := write("A", false)
		pathB, _ := write("B", true)
		args := func(path string) []string {
			return []string{"import", "--writers", "1", "--fuzzy-threshold", "0", "--chunks-per-commit", "10", "--output", "json", path}
		}
		a, b := start(t, cfg, args(pathA)...), start(t, cfg, args(pathB)...)
		for _, p := range []*proc{a, b} {
			if code := p.wait(t); code != 0 {
				t.Fatalf("round %d: exit %d, want 0\n%s", round, code, outputs(p))
			}
			if e := strings.ToLower(p.stderr.String()); strings.Contains(e, "waited for each other") || strings.Contains(e, "deadlock") {
				t.Errorf("round %d: a deadlock was broken:\n%s", round, p.stderr.String())
			}
			pgtest.CheckInvariant(t, conn, p.summary(t)["source_key"].(string), lines, "")
		}
		// One item a name: the second import found what the first created.
		if n := queryInt(t, conn, `SELECT count(*) FROM (SELECT description FROM transactions WHERE description LIKE $1
			GROUP BY description HAVING count(DISTINCT item_id) > 1) AS d`, fmt.Sprintf("Round %c %%", 'a'+round)); n != 0 {
			t.Errorf("round %d: %d names resolved to two items", round, n)
		}
	}
	pgtest.CheckQuantities(t, conn)
}
