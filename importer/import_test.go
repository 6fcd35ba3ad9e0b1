package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/unicode"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

func testOptions(cfg store.Config) Options {
	return Options{DB: cfg, Account: "acme"}
}

func TestImport100kLinesWithBadRows(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "gen.csv", testgen.Spec{Rows: 100_000, BadEvery: 97})

	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess {
		t.Fatalf("status %s (error %v), want partial_success", sum.Status, sum.Error)
	}
	if sum.RowsRead != 100_000 || sum.RowsImported != int64(g.Good) || sum.RowsRejected != int64(len(g.Bad)) {
		t.Errorf("summary read/imported/rejected = %d/%d/%d, want 100000/%d/%d",
			sum.RowsRead, sum.RowsImported, sum.RowsRejected, g.Good, len(g.Bad))
	}
	if want := int64((g.Good + DefaultChunkSize - 1) / DefaultChunkSize); sum.Chunks < want {
		t.Errorf("chunks = %d, want at least %d", sum.Chunks, want)
	}
	rejects := strings.TrimSuffix(g.Path, ".csv") + ".rejects.csv"
	if sum.RejectsFile == nil || *sum.RejectsFile != rejects {
		t.Errorf("rejects file = %v, want %s", sum.RejectsFile, rejects)
	}

	// The rejects file holds exactly the bad lines, each with its reason.
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(all[0], ","); got != "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,notes,_run,_record,_line,_error" {
		t.Errorf("rejects header = %s", got)
	}
	seen := map[int]bool{}
	for _, rec := range all[1:] {
		line, _ := strconv.Atoi(rec[len(rec)-2])
		reason := rec[len(rec)-1]
		field, ok := g.Bad[line]
		if !ok {
			t.Errorf("line %d rejected (%s) but it is valid", line, reason)
			continue
		}
		if !strings.Contains(reason, field) {
			t.Errorf("line %d: _error %q does not name %s", line, reason, field)
		}
		seen[line] = true
	}
	if len(seen) != len(g.Bad) || len(all)-1 != len(g.Bad) {
		t.Errorf("rejects file has %d rows (%d distinct bad lines), want %d", len(all)-1, len(seen), len(g.Bad))
	}

	conn := pgtest.Conn(t, cfg)
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, rejects)
	checkItemQuantities(t, conn, "acme", g)
}

// checkItemQuantities checks that every item of the account has the exact
// sum of the valid lines' quantities as its quantity.
func checkItemQuantities(t *testing.T, conn *pgx.Conn, account string, g *testgen.File) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT name, quantity::text FROM inventory_items WHERE account = $1`, account)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var name, qty string
		if err := rows.Scan(&name, &qty); err != nil {
			t.Fatal(err)
		}
		if want, ok := g.SumQty[name]; !ok || !decimal.RequireFromString(qty).Equal(want) {
			t.Errorf("item %q quantity %s, want %s", name, qty, want)
		}
		n++
	}
	if n != len(g.SumQty) {
		t.Errorf("%d items, want %d", n, len(g.SumQty))
	}
}

// The stock of an account whose name is made of what array literals are
// made of (quotes, a backslash, commas, braces, spaces, NULL) goes to its
// items, with two writers: the stock update sends its columns as arrays.
func TestStockOfAnAccountNamedInArraySyntax(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	g := testgen.CSV(t, t.TempDir(), "gen.csv", testgen.Spec{Rows: 3000})
	opts := testOptions(cfg)
	opts.Account, opts.Writers = `Bob's "Grill", {Main}\Kitchen NULL`, 2
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusSuccess || sum.RowsImported != 3000 {
		t.Fatalf("summary %+v", sum)
	}
	conn := pgtest.Conn(t, cfg)
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, "")
	checkItemQuantities(t, conn, opts.Account, g)
}

func TestImportTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	g := testgen.CSV(t, t.TempDir(), "gen.csv", testgen.Spec{Rows: 1200, BadEvery: 97})
	first := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if first.Status != store.StatusPartialSuccess {
		t.Fatalf("first import: %s %v", first.Status, first.Error)
	}
	// A lost rejects file is written again from the database.
	written, err := os.ReadFile(*first.RejectsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(*first.RejectsFile); err != nil {
		t.Fatal(err)
	}
	second := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if second.Status != store.StatusSkipped || second.RowsImported != 0 || *second.RunID != *first.RunID {
		t.Fatalf("second import: %+v, want skipped with run %d", second, *first.RunID)
	}
	if restored, err := os.ReadFile(*first.RejectsFile); err != nil || !bytes.Equal(restored, written) {
		t.Errorf("the rejects file was not restored as it was (%v)", err)
	}
	// So is one left empty, as reserved, by a process killed after the
	// run's end was recorded and before the file was written; the
	// temporary file it was writing goes.
	tmp := filepath.Join(filepath.Dir(*first.RejectsFile), "."+filepath.Base(*first.RejectsFile)+".123.tmp")
	if err := os.WriteFile(tmp, written[:len(written)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(*first.RejectsFile, 0); err != nil {
		t.Fatal(err)
	}
	again := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if again.Status != store.StatusSkipped || again.RejectsFile == nil || *again.RejectsFile != *first.RejectsFile {
		t.Fatalf("import after an empty rejects file: %+v, want skipped, naming the rejects file", again)
	}
	if restored, err := os.ReadFile(*first.RejectsFile); err != nil || !bytes.Equal(restored, written) {
		t.Errorf("the empty rejects file was not written again (%v)", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed attempt's temporary file is still there (%v)", err)
	}
	conn := pgtest.Conn(t, cfg)
	pgtest.CheckInvariant(t, conn, first.SourceKey, g.Lines, *first.RejectsFile)

	// --force imports it again as a new run.
	opts := testOptions(cfg)
	opts.Force = true
	opts.RejectsPath = filepath.Join(t.TempDir(), "again.rejects.csv")
	third := Import(context.Background(), Input{Name: g.Path}, opts)
	if third.Status != store.StatusPartialSuccess || *third.RunID == *first.RunID || third.RowsImported != first.RowsImported {
		t.Fatalf("forced import: %+v", third)
	}
	pgtest.CheckQuantities(t, conn)
}

func TestImportRefusesMissingSchema(t *testing.T) {
	t.Parallel()
	cfg := pgtest.EmptySchema(t)
	g := testgen.CSV(t, t.TempDir(), "gen.csv", testgen.Spec{Rows: 10})
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusFailed || sum.Error == nil || !strings.Contains(*sum.Error, "batchimport migrate") {
		t.Fatalf("got %s %v, want failed naming batchimport migrate", sum.Status, sum.Error)
	}
}

func TestImportFatalHeaderWritesNothing(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	path := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(path, []byte("invoice_number,invoice_date,vendor,quantity,unit_price\nA,2026-01-01,V,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := Import(context.Background(), Input{Name: path}, testOptions(cfg))
	if sum.Status != store.StatusFailed || sum.Error == nil || !strings.Contains(*sum.Error, `"description"`) {
		t.Fatalf("got %s %v, want failed naming the description column", sum.Status, sum.Error)
	}
	conn := pgtest.Conn(t, cfg)
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM transactions) + (SELECT count(*) FROM inventory_items)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d rows written, want none", n)
	}
}

func TestMaxRejectsRevertsTheRun(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	g := testgen.CSV(t, t.TempDir(), "gen.csv", testgen.Spec{Rows: 30000, BadEvery: 10})
	opts := testOptions(cfg)
	opts.MaxRejects = 60
	opts.ChunksPerCommit = 1
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusFailed || !errors.Is(sum.Err, ErrMaxRejects) || !strings.Contains(*sum.Error, "--max-rejects 60") {
		t.Fatalf("got %s %v, want failed naming --max-rejects", sum.Status, sum.Error)
	}
	if !sum.Reverted || sum.RowsRejected <= 60 || sum.RowsRead >= 30000 {
		t.Errorf("reverted %v, read %d, rejected %d: want it reverted soon after 60 rejects", sum.Reverted, sum.RowsRead, sum.RowsRejected)
	}
	// Nothing of the file stays but its rejects, which are all in the file.
	conn := pgtest.Conn(t, cfg)
	var rows, items, rejects int
	var status string
	err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM inventory_items),
		(SELECT count(*) FROM rejects WHERE run_id = $1), (SELECT status FROM import_runs WHERE id = $1)`, *sum.RunID).Scan(&rows, &items, &rejects, &status)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 0 || items != 0 || status != "reverted" {
		t.Errorf("after the revert: %d transactions, %d items, run %s; want none, none, reverted", rows, items, status)
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); rejects != int(sum.RowsRejected) || len(got) != rejects {
		t.Errorf("%d rejects stored, %d in the file, summary says %d", rejects, len(got), sum.RowsRejected)
	}
	// The source can be imported again, as a new run.
	opts.MaxRejects = 0
	again := Import(context.Background(), Input{Name: g.Path}, opts)
	if again.Status != store.StatusPartialSuccess || *again.RunID == *sum.RunID || again.RowsRead != 30000 {
		t.Fatalf("import after the revert: %s, run %v, read %d", again.Status, again.RunID, again.RowsRead)
	}
	pgtest.CheckInvariant(t, conn, again.SourceKey, g.Lines, *again.RejectsFile)
}

// An invoice the database refuses to claim (here an operator's trigger;
// in a LATIN1 database, a vendor or number it cannot hold, SQLSTATE
// 22P05) rejects the rows of that invoice, not the file: with one writer
// or several, every record is once in the table or in the rejects.
func TestInvoiceTheDatabaseRefusesRejectsItsRows(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d writers", writers), func(t *testing.T) {
			t.Parallel()
			cfg := pgtest.Schema(t)
			conn := pgtest.Conn(t, cfg)
			holdInvoices(t, conn, "invoices")
			held := 0
			g := testgen.CSV(t, t.TempDir(), "held.csv", testgen.Spec{Rows: 20_000, Edit: func(i int, f []string) {
				if i%997 == 7 {
					f[0] = fmt.Sprintf("HOLD-%d", i)
					held++
				}
			}})
			opts := testOptions(cfg)
			opts.Writers = writers
			sum := Import(context.Background(), Input{Name: g.Path}, opts)
			if sum.Status != store.StatusPartialSuccess || sum.RowsRejected < int64(held) {
				t.Fatalf("%s %v, %d rejected: want partial success, the %d rows of held invoices rejected", sum.Status, sum.Error, sum.RowsRejected, held)
			}
			reasons := pgtest.RejectsColumn(t, *sum.RejectsFile, "_error")
			n := 0
			for _, r := range reasons {
				if strings.Contains(r, "SQLSTATE P0001: invoice HOLD-") {
					n++
				}
			}
			if n != held {
				t.Errorf("%d rejects name the held invoice, want %d", n, held)
			}
			pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
		})
	}
}

// holdInvoices makes the database refuse the rows of table whose invoice
// number starts with HOLD, as an operator's trigger would.
func holdInvoices(t *testing.T, conn *pgx.Conn, table string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION hold() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'invoice % is on hold', NEW.invoice_number;
		END $$;
		CREATE TRIGGER hold BEFORE INSERT ON `+table+`
			FOR EACH ROW WHEN (NEW.invoice_number LIKE 'HOLD%') EXECUTE FUNCTION hold();`); err != nil {
		t.Fatal(err)
	}
}

// Rows the database refuses count against --max-rejects as those the
// client rejects: the run stops, is reverted, and says how many were
// rejected as its summary does, with one writer or several.
func TestMaxRejectsOfRowsTheDatabaseRefuses(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d writers", writers), func(t *testing.T) {
			t.Parallel()
			cfg := pgtest.Schema(t)
			conn := pgtest.Conn(t, cfg)
			holdInvoices(t, conn, "transactions")
			// Two writers hold up to 24,000 rows in flight (parallelRows),
			// read before the first refused row is counted.
			g := testgen.CSV(t, t.TempDir(), "held.csv", testgen.Spec{Rows: 60_000, Edit: func(i int, f []string) {
				if i%101 == 7 {
					f[0] = fmt.Sprintf("HOLD-%d", i)
				}
			}})
			opts := testOptions(cfg)
			opts.MaxRejects, opts.Writers = 20, writers
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			sum := Import(ctx, Input{Name: g.Path}, opts)
			if ctx.Err() != nil {
				t.Fatalf("the run did not stop within 2 minutes: %s %v", sum.Status, sum.Error)
			}
			if sum.Status != store.StatusFailed || !errors.Is(sum.Err, ErrMaxRejects) || !sum.Reverted || sum.RowsRead >= 60_000 {
				t.Fatalf("%s %v, reverted %v, read %d: want failed for --max-rejects, reverted, before the end", sum.Status, sum.Error, sum.Reverted, sum.RowsRead)
			}
			if want := fmt.Sprintf(": %d rejected, more than --max-rejects 20", sum.RowsRejected); !strings.Contains(*sum.Error, want) {
				t.Errorf("error %q: want it to say %q, as the summary counts", *sum.Error, want)
			}
			var n int
			if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM transactions`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d transactions after the revert (%v)", n, err)
			}
			pgtest.CheckQuantities(t, conn)
		})
	}
}

// Items are created in file order (SPEC §17): their ids follow the lines
// that first need them, with one writer or several, in one batch or many.
func TestItemsCreatedInFileOrder(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d writers", writers), func(t *testing.T) {
			t.Parallel()
			cfg := pgtest.Schema(t)
			conn := pgtest.Conn(t, cfg)
			var body strings.Builder
			body.WriteString("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n")
			var want []string
			for i := range 3000 {
				// Names that sort unlike the file: Zeta 2999, Zeta 2998, ...,
				// each needed again later.
				name := fmt.Sprintf("Zeta Product %04d", 2999-i)
				if i%3 == 1 {
					name = fmt.Sprintf("Alpha Product %04d", i)
				}
				want = append(want, name)
				fmt.Fprintf(&body, "I-%d,2026-05-05,Vendor,S-%d,%s,1,ea,1\n", i/10, i, name)
				fmt.Fprintf(&body, "J-%d,2026-05-05,Vendor,S-%d,%s,1,ea,1\n", i/10, i, name)
			}
			path := filepath.Join(t.TempDir(), "order.csv")
			if err := os.WriteFile(path, []byte(body.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			opts := testOptions(cfg)
			opts.Writers, opts.ChunkSize = writers, 100
			if sum := Import(context.Background(), Input{Name: path}, opts); sum.Status != store.StatusSuccess || sum.ItemsCreated != 3000 {
				t.Fatalf("%s %v, %d items created; want success, 3000", sum.Status, sum.Error, sum.ItemsCreated)
			}
			rows, err := conn.Query(context.Background(), `SELECT name FROM inventory_items ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("items by id: %d, the %dth is %q, want %q (file order)", len(got), i+1, got[i], want[i])
					}
				}
				t.Fatalf("items by id: %d, want %d", len(got), len(want))
			}
		})
	}
}

// Standard input without --source-id is never recognised as a repeat: its
// invoices are, line by line.
func TestStdinWithoutSourceIDIsNeverSkipped(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "gen.csv", testgen.Spec{Rows: 700})
	opts := testOptions(cfg)
	opts.Format = "csv"
	var keys []string
	for i, want := range []store.Status{store.StatusSuccess, store.StatusRejected} {
		// A rejects file is never overwritten: each run names its own.
		opts.RejectsPath = filepath.Join(t.TempDir(), "stdin.rejects.csv")
		f, err := os.Open(g.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := Import(context.Background(), Input{Name: "-", Stdin: f}, opts)
		f.Close()
		if sum.Status != want || sum.RowsRead != 700 {
			t.Fatalf("stdin import %d: %+v, want %s", i, sum, want)
		}
		if i == 1 && !strings.Contains(*sum.Error, "duplicate invoice") {
			t.Errorf("stdin import again: %s, want every line a duplicate invoice", *sum.Error)
		}
		keys = append(keys, sum.SourceKey)
	}
	if keys[0] == keys[1] || !strings.HasPrefix(keys[0], "stdin:") {
		t.Errorf("stdin source keys %v: want two unique keys", keys)
	}
	// With --source-id, the second import of stdin is recognised.
	opts.SourceID = "may-2026"
	other := testgen.CSV(t, dir, "other.csv", testgen.Spec{Rows: 700, Variant: 1})
	for i, want := range []store.Status{store.StatusSuccess, store.StatusSkipped} {
		opts.RejectsPath = filepath.Join(t.TempDir(), "stdin.rejects.csv")
		f, _ := os.Open(other.Path)
		sum := Import(context.Background(), Input{Name: "-", Stdin: f}, opts)
		f.Close()
		if sum.Status != want {
			t.Errorf("import %d with --source-id: %s, want %s (%v)", i, sum.Status, want, sum.Err)
		}
	}
}

// A file of which every record is rejected ends rejected, naming the
// commonest reason; imported again, its new run takes the old one's place,
// so each record stays in the rejects of one run.
func TestEveryRecordRejected(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "us-dates.csv", testgen.Spec{Rows: 1200, Edit: func(i int, f []string) {
		f[1] = "11/28/2026" // MM/DD/YYYY: every row breaks the date rule
	}})
	var runs []int64
	for range 2 {
		sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
		var all *AllRejectedError
		if sum.Status != store.StatusRejected || !errors.As(sum.Err, &all) {
			t.Fatalf("status %s, error %v; want rejected", sum.Status, sum.Err)
		}
		if !strings.HasPrefix(all.Rule, "invoice_date: must be a real calendar date written YYYY-MM-DD (for another order, set --date-format") || all.Count != 1200 || all.Rejected != 1200 {
			t.Errorf("commonest reason %q for %d of %d, want the date rule for all 1200", all.Rule, all.Count, all.Rejected)
		}
		runs = append(runs, *sum.RunID)
		pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
	}
	var first string
	if err := conn.QueryRow(context.Background(), `SELECT status FROM import_runs WHERE id = $1`, runs[0]).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if runs[0] == runs[1] || first != "reverted" {
		t.Errorf("runs %v, the first one %s: want a new run superseding the first", runs, first)
	}
}

// Syntax errors on different lines and columns are one reason: a file of
// them names it for all its records, not for one.
func TestEveryRecordRejectedForItsSyntax(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	path := filepath.Join(t.TempDir(), "quotes.csv")
	body := "invoice_number,invoice_date,vendor,description,quantity,unit_price\n" +
		"A-1,2026-01-02,Sysco,\"Milk\" 1gal,1,2\n" +
		"A-2,2026-01-02,\"Sys\"co,Milk,1,2\n" +
		"A-3,2026-01-02,Sysco,Milk,1,\"2\"5\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := Import(context.Background(), Input{Name: path}, testOptions(cfg))
	var all *AllRejectedError
	if sum.Status != store.StatusRejected || !errors.As(sum.Err, &all) {
		t.Fatalf("status %s, error %v; want rejected", sum.Status, sum.Err)
	}
	if want := `CSV syntax: extraneous or missing " in quoted-field`; all.Rule != want || all.Count != 3 {
		t.Errorf("commonest reason %q for %d of %d, want %q for all 3", all.Rule, all.Count, all.Rejected, want)
	}
}

// A file modified less than --min-age ago is left for later: nothing is
// written, and an older one is imported.
func TestMinAgeDefersNewFiles(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "upload.csv", testgen.Spec{Rows: 300})
	opts := testOptions(cfg)
	opts.MinAge = time.Hour
	before := pgtest.Snapshot(t, conn)
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusDeferred || sum.Error != nil || sum.RunID != nil {
		t.Fatalf("a new file: %s %v, want deferred", sum.Status, sum.Err)
	}
	// A file dated in the future is deferred too, and said so as a
	// warning: it would wait until its date.
	future := time.Now().Add(24 * time.Hour)
	if err := os.Chtimes(g.Path, future, future); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	warned := opts
	warned.Log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if sum := Import(context.Background(), Input{Name: g.Path}, warned); sum.Status != store.StatusDeferred ||
		!strings.Contains(logged.String(), "level=WARN") || !strings.Contains(logged.String(), "in the future") {
		t.Errorf("a file dated tomorrow: %s, logged %q; want deferred with a warning", sum.Status, logged.String())
	}
	if after := pgtest.Snapshot(t, conn); after != before {
		t.Errorf("a deferred file wrote:\n%s\nwant\n%s", after, before)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(g.Path, old, old); err != nil {
		t.Fatal(err)
	}
	if sum := Import(context.Background(), Input{Name: g.Path}, opts); sum.Status != store.StatusSuccess || sum.RowsImported != 300 {
		t.Fatalf("an old file: %s %v", sum.Status, sum.Err)
	}
}

// A file whose last line has no line end, modified moments ago, may be an
// upload cut short: the run warns, and imports it. An old such file, or a
// new one whose last line ends, is imported without a word.
func TestRecentFileCutInItsLastLineWarns(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	cases := []struct {
		name   string
		cut    bool
		age    time.Duration
		warned bool
	}{
		{"cut.csv", true, 0, true},
		{"cut.ndjson", true, 0, true},
		{"old-cut.csv", true, 2 * time.Hour, false},
		{"whole.csv", false, 0, false},
		{"whole-utf16.csv", false, 0, false},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		if strings.HasSuffix(c.name, ".ndjson") {
			var b strings.Builder
			for i := range 40 {
				fmt.Fprintf(&b, `{"invoice_number":"N-%d","invoice_date":"2026-05-04","vendor":"Sysco","description":"Figs","quantity":"1%d","unit":"ea","unit_price":"2.50"}`+"\n", i/5, i)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
		} else {
			testgen.CSV(t, dir, c.name, testgen.Spec{Rows: 40, Variant: len(c.name)})
		}
		if strings.Contains(c.name, "utf16") {
			// Little-endian, as Excel writes it: its last line ends in 0A 00.
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			enc := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()
			if data, err = enc.Bytes(data); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if c.cut {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Inside the last line: its last two bytes and its line end go.
			data = bytes.TrimRight(data, "\r\n")
			if err := os.WriteFile(path, data[:len(data)-2], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if c.age > 0 {
			then := time.Now().Add(-c.age)
			if err := os.Chtimes(path, then, then); err != nil {
				t.Fatal(err)
			}
		}
		var logged bytes.Buffer
		opts := testOptions(cfg)
		opts.Log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))
		sum := Import(context.Background(), Input{Name: path}, opts)
		if sum.RowsRead != 40 || sum.RowsImported+sum.RowsRejected != 40 {
			t.Errorf("%s: %d rows read, %d imported, %d rejected, error %v; want all 40 read, and each imported or rejected",
				c.name, sum.RowsRead, sum.RowsImported, sum.RowsRejected, sum.Err)
		}
		if warned := strings.Contains(logged.String(), "last line has no line end"); warned != c.warned {
			t.Errorf("%s: warned %v, want %v; logged %q", c.name, warned, c.warned, logged.String())
		}
	}
}

// A rejects path that is taken, by a symlink or a file, is never written
// through nor replaced (SPEC §16): the default path gives way to the next
// free name, a path given with --rejects is refused.
func TestRejectsFileNeverReplacesAFile(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "gen.csv", testgen.Spec{Rows: 500, BadEvery: 50})
	victim := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(victim, []byte("ssh-ed25519 AAAA keep-me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "gen.rejects.csv")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(cfg)
	opts.RejectsPath = victim
	if sum := Import(context.Background(), Input{Name: g.Path}, opts); sum.Status != store.StatusFailed || !strings.Contains(*sum.Error, "never overwrites") {
		t.Errorf("--rejects naming an existing file: %s %v", sum.Status, sum.Err)
	}
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess {
		t.Fatalf("status %s %v", sum.Status, sum.Err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "ssh-ed25519 AAAA keep-me\n" {
		t.Errorf("the symlink's target was written: %q (%v)", b, err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", st, err)
	}
	want := filepath.Join(dir, "gen-2.rejects.csv")
	st, err := os.Lstat(want)
	if sum.RejectsFile == nil || *sum.RejectsFile != want || err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Errorf("rejects file %v, %v (%v): want %s, a regular file, mode 0600", sum.RejectsFile, st, err, want)
	}
	pgtest.CheckInvariant(t, pgtest.Conn(t, cfg), sum.SourceKey, g.Lines, want)
}
