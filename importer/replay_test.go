package importer

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/store"
)

// A trigger that refuses some rows: exactly those rows are rejected with the
// trigger's message, and the rest of their chunks are imported.
func TestTriggerRejectsOnlyItsRows(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	pgtest.RefusePoison(t, conn)
	poisoned := map[int]bool{}
	g := testgen.CSV(t, t.TempDir(), "poison.csv", testgen.Spec{Rows: 5000, Edit: func(i int, f []string) {
		if i%701 == 3 || i == 4999 {
			f[0] = fmt.Sprintf("POISON-%d", i)
			poisoned[i] = true
		}
	}})
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess {
		t.Fatalf("status %s %v", sum.Status, sum.Error)
	}
	if sum.RowsRejected != int64(len(poisoned)) || sum.RowsImported != int64(5000-len(poisoned)) {
		t.Errorf("imported/rejected %d/%d, want %d/%d", sum.RowsImported, sum.RowsRejected, 5000-len(poisoned), len(poisoned))
	}
	chunks := map[int]bool{} // the file has no invalid rows, so chunk k holds records 500k..500k+499
	for i := range poisoned {
		chunks[i/DefaultChunkSize] = true
	}
	if sum.ChunksReplayed != int64(len(chunks)) {
		t.Errorf("chunks replayed = %d, want %d", sum.ChunksReplayed, len(chunks))
	}
	var want []int
	for i := range 5000 {
		if poisoned[i] {
			want = append(want, g.Lines[i])
		}
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected lines %v, want the poisoned %v", got, want)
	}
	b, err := os.ReadFile(*sum.RejectsFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if strings.Count(text, "SQLSTATE P0001: invoice POISON-") != len(poisoned) {
		t.Errorf("rejects do not carry the trigger's SQLSTATE and message:\n%s", text)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}

// Rows refused at a steady pace cost a COPY each: once two gaps between
// refused rows agree, the COPY after one goes up to the next, which the
// COPY after it, of that row alone, sets apart. Every record is still
// imported or rejected once. A statement trigger counts the COPYs that go
// in, and a proxy the bytes sent, against those of the file without the
// refused rows, into a schema of its own.
func TestSteadyRefusalsCostACopyEach(t *testing.T) {
	t.Parallel()
	const rows, every = 6000, 100
	refused := int64(rows / every)
	sent := func(poisoned bool) (copies, bytes int64) {
		cfg := pgtest.Schema(t)
		conn := pgtest.Conn(t, cfg)
		pgtest.RefusePoison(t, conn)
		if _, err := conn.Exec(context.Background(), `
			CREATE TABLE copies (n int NOT NULL);
			CREATE FUNCTION count_copy() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO copies VALUES (1); RETURN NULL; END $$;
			CREATE TRIGGER count_copy AFTER INSERT ON transactions FOR EACH STATEMENT EXECUTE FUNCTION count_copy();`); err != nil {
			t.Fatal(err)
		}
		g := testgen.CSV(t, t.TempDir(), "steady.csv", testgen.Spec{Rows: rows, Edit: func(i int, f []string) {
			if i%every == 50 {
				f[0] = fmt.Sprintf("INV-%d", i) // as long as the poison's
				if poisoned {
					f[0] = fmt.Sprintf("POISON-%d", i)
				}
			}
		}})
		px, proxied := pgtest.ThroughProxy(t, cfg)
		opts := testOptions(proxied)
		opts.Writers = 1
		sum := Import(context.Background(), Input{Name: g.Path}, opts)
		want := int64(0)
		if poisoned {
			want = refused
		}
		if sum.RowsRejected != want || sum.RowsImported != rows-want {
			t.Fatalf("summary %+v, want %d rows rejected", sum, want)
		}
		if poisoned {
			pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
		}
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM copies`).Scan(&copies); err != nil {
			t.Fatal(err)
		}
		return copies, px.Sent()
	}
	copies, bytes := sent(true)
	_, clean := sent(false)
	t.Logf("%d COPYs went in; %d bytes sent, %d for the file without refused rows", copies, bytes, clean)
	// Restarting at RefusedPiece rows, each refused row cost two COPYs
	// that went in (64 rows, then the rest up to it again), 120 in all.
	if copies > refused+20 {
		t.Errorf("%d COPYs went in for %d rows refused every %d, want at most %d", copies, refused, every, refused+20)
	}
	// The batch's first attempt goes whole (1.2 times the clean file's
	// bytes, the rows once more: 2.3 in all). When the COPY after a
	// refused row spanned twice the gap, the next refused row first, it
	// was 3.9 times.
	if float64(bytes) > 2.5*float64(clean) {
		t.Errorf("%d bytes sent for rows refused every %d, against %d without them: want at most 2.5 times", bytes, every, clean)
	}
}

// Rows refused at a steady pace are expected where the pace puts them,
// from one batch to the next and with two writers: the rows before one
// are not written, rolled back and written again. Every row that reaches
// the table, kept or rolled back, and every row a trigger refuses, takes
// a number from its identity's sequence, which no rollback takes back.
func TestSteadyRefusalsAreNotWrittenTwice(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	pgtest.RefusePoison(t, conn)
	const rows, every = 60000, 500
	g := testgen.CSV(t, t.TempDir(), "steady.csv", testgen.Spec{Rows: rows, Edit: func(i int, f []string) {
		if i%every == 50 {
			f[0] = fmt.Sprintf("POISON-%d", i)
		}
	}})
	opts := testOptions(cfg)
	opts.Writers = 2 // batches of 6,000 rows
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	refused := int64(rows / every)
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != refused {
		t.Fatalf("summary %+v, want %d rows rejected", sum, refused)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
	var taken int64
	if err := conn.QueryRow(context.Background(), `SELECT last_value FROM `+pgx.Identifier{cfg.Schema}.Sanitize()+`.transactions_id_seq`).Scan(&taken); err != nil {
		t.Fatal(err)
	}
	again := taken - sum.RowsImported - refused
	t.Logf("%d numbers taken: %d rows kept, %d refused, %d more", taken, sum.RowsImported, refused, again)
	// What learning the pace costs each writer: its first batch sent
	// whole, refused 50 rows in, then 64, 128, 256 rows and 512 refused
	// 51 rows in, twice, before two gaps agree; about 360 in all. When
	// each batch expected its first refused row at 512 rows or more in,
	// those before it went twice: 1,228 more.
	if again > 450 {
		t.Errorf("%d rows written and rolled back, or refused more than once, for %d refused every %d: want at most 450", again, refused, every)
	}
}

// Inventory that would overflow numeric(18,3): the aggregated update fails
// for the chunk, and the replay rejects only the row that overflows.
func TestInventoryOverflowRejectsOneRow(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "big.csv", testgen.Spec{Rows: 800, Edit: func(i int, f []string) {
		if i == 10 || i == 260 { // the same product, twice 9e14
			f[5] = "900000000000000"
		}
	}})
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	// The transaction replayed holds the first chunk, and the second too
	// when it was ready to join it.
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != 1 || sum.ChunksReplayed < 1 || sum.ChunksReplayed > 2 {
		t.Fatalf("summary %+v, want one row rejected in a replayed transaction", sum)
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); len(got) != 1 || got[0] != g.Lines[260] {
		t.Errorf("rejected lines %v, want [%d]", got, g.Lines[260])
	}
	b, _ := os.ReadFile(*sum.RejectsFile)
	if !strings.Contains(string(b), "quantity: would take its item's stock to 10^15 or more") || !strings.Contains(string(b), "SQLSTATE 22003") {
		t.Errorf("rejects file lacks the overflow's field, rule and SQLSTATE:\n%s", b)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}

// A line whose quantity, converted into its item's base unit, is past what
// a stock holds is rejected, whether that is past an int64 of thousandths
// (fixed.Beyond) or only past numeric(18,3); the rest imports. A read-only
// dry run says so first.
func TestBaseQuantityPastAStockRejected(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	g := testgen.CSV(t, t.TempDir(), "dz.csv", testgen.Spec{Rows: 600, Edit: func(i int, f []string) {
		switch i {
		case 300: // 12 × 9e14 ea: past an int64 of thousandths
			f[5], f[6] = "900000000000000", "dz"
		case 310: // 12 × 1e14 ea: past numeric(18,3) only
			f[5], f[6] = "100000000000000", "dz"
		case 320: // 12 × (8e14 + 0.001) ea: past an int64 only with its decimals
			f[5], f[6] = "-800000000000000.001", "dz"
		}
	}})
	// A read-only dry run tells as much, without the database refusing.
	opts := testOptions(cfg)
	opts.DryRun = ReadOnly
	if sum := Import(context.Background(), Input{Name: g.Path}, opts); sum.Status != store.StatusPartialSuccess || sum.RowsRejected != 3 || sum.RowsImported != 597 {
		t.Errorf("dry run: summary %+v, want three rows rejected", sum)
	}
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != 3 || sum.RowsImported != 597 {
		t.Fatalf("summary %+v, want three rows rejected", sum)
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); fmt.Sprint(got) != fmt.Sprint([]int{g.Lines[300], g.Lines[310], g.Lines[320]}) {
		t.Errorf("rejected lines %v, want [%d %d %d]", got, g.Lines[300], g.Lines[310], g.Lines[320])
	}
	b, _ := os.ReadFile(*sum.RejectsFile)
	if strings.Count(string(b), "quantity: is 10^15 or more in its item's base unit") != 3 {
		t.Errorf("rejects do not name the quantity and its rule:\n%s", b)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}

// A check constraint an operator added (class 23) is a data error too.
func TestConstraintViolationRejectsRows(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	if _, err := conn.Exec(context.Background(), `ALTER TABLE transactions ADD CONSTRAINT small_orders CHECK (quantity < 17)`); err != nil {
		t.Fatal(err)
	}
	g := testgen.CSV(t, t.TempDir(), "c.csv", testgen.Spec{Rows: 2000})
	sum := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg))
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected == 0 || sum.RowsImported == 0 {
		t.Fatalf("summary %+v", sum)
	}
	b, _ := os.ReadFile(*sum.RejectsFile)
	if !strings.Contains(string(b), "SQLSTATE 23514") || !strings.Contains(string(b), "small_orders") {
		t.Errorf("rejects lack SQLSTATE 23514 and the constraint name:\n%.500s", b)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}

// A transaction carrying several batches, whose rows are no longer in
// memory, fails on stock that overflows at its commit: the run goes back
// to its checkpoint, writes each batch through the failed one (and as many
// records after it) alone, setting the refused row apart, then goes on in
// long transactions. Rows refused as they go in (the trigger) cost only
// their batch's replay, inside its transaction. Every record ends up once,
// and the stock is the exact sum.
func TestGroupWrittenAgainAfterRefusedRow(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	pgtest.RefusePoison(t, conn)
	const rows = 100_000
	refused := map[int]bool{}
	g := testgen.CSV(t, t.TempDir(), "poison.csv", testgen.Spec{Rows: rows, Edit: func(i int, f []string) {
		switch {
		case i == 10 || i == 5_010: // the same product, twice 9e14: refused at the first group's commit
			f[5] = "900000000000000"
			refused[i] = i == 5_010
		case i == 70_003 || i == 95_000: // refused as the rows go in
			f[0] = fmt.Sprintf("POISON-%d", i)
			refused[i] = true
		}
	}})
	var log strings.Builder
	opts := testOptions(cfg)
	// Transactions of 20,000 rows, in batches of 7,500.
	opts.ChunkSize, opts.ChunksPerCommit = 100, 200
	opts.Log = slog.New(slog.NewTextHandler(&log, nil))
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != 3 || sum.RowsImported != rows-3 {
		t.Fatalf("summary %+v, want 3 rows rejected\n%s", sum, log.String())
	}
	var want []int
	for i := range rows {
		if refused[i] {
			want = append(want, g.Lines[i])
		}
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected lines %v, want %v", got, want)
	}
	if n := strings.Count(log.String(), "the database refused a row: the run goes back to its checkpoint"); n != 1 {
		t.Errorf("%d transactions written again, want 1 (the first group's commit):\n%s", n, log.String())
	}
	if sum.ChunksReplayed != 3 {
		t.Errorf("%d chunks replayed, want 3", sum.ChunksReplayed)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}

// A file with refused rows all along is never read again: each refused
// row costs the rows before it in its COPY, inside its transaction, and
// the transactions stay long.
func TestRefusedRowsEverywhereStayInTheirTransaction(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	pgtest.RefusePoison(t, conn)
	const rows = 100_000
	g := testgen.CSV(t, t.TempDir(), "dirty.csv", testgen.Spec{Rows: rows, Edit: func(i int, f []string) {
		if i%1000 == 500 {
			f[0] = fmt.Sprintf("POISON-%d", i)
		}
	}})
	var log strings.Builder
	opts := testOptions(cfg)
	opts.ChunkSize, opts.ChunksPerCommit = 100, 200
	opts.Log = slog.New(slog.NewTextHandler(&log, nil))
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != rows/1000 {
		t.Fatalf("summary %+v, want %d rows rejected", sum, rows/1000)
	}
	if n := strings.Count(log.String(), "reading the input again from the checkpoint"); n > 0 {
		t.Errorf("the input was read again %d times:\n%s", n, log.String())
	}
	if sum.ChunksReplayed != rows/1000 || sum.Chunks != rows/100 {
		t.Errorf("%d of %d chunks replayed, want each refused row's: %d", sum.ChunksReplayed, sum.Chunks, rows/1000)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
	// A refused row costs the rows sent before it in its COPY. Here, after
	// a refused row, COPYs of 64, 128, 256 and 512 rows go in and the
	// next, of 1,024, is refused 39 rows in. The first refused row of a
	// batch (of 6,000 rows with two writers) costs at most the 999
	// rows since the last, as does the one in each writer's first batch
	// with a refused row, which is sent whole first. Pieces of 512 after
	// a refused row cost 487 each: 149,042 rows inserted.
	batches := int64(rows/(parallelRows/(2*DefaultWriters)) + 1)
	sent, most := rowsInserted(t, conn, sum.RowsImported), int64(rows+rows/1000*39)+batches*999+DefaultWriters*999
	if sent > most {
		t.Errorf("the server inserted %d rows, want at most %d", sent, most)
	}
}

// rowsInserted is how many rows the server inserted into transactions,
// those rolled back included, once the import's sessions have reported
// them (a session reports at its end): at least the rows imported, and
// the same twice in a row.
func rowsInserted(t *testing.T, conn *pgx.Conn, least int64) int64 {
	t.Helper()
	ctx := context.Background()
	var n, was int64 = 0, -1
	for i := 0; n != was || n < least; i++ {
		if i == 50 {
			t.Fatalf("the server reports %d rows inserted, want at least %d", n, least)
		}
		time.Sleep(200 * time.Millisecond)
		was = n
		if err := conn.QueryRow(ctx, `SELECT pg_stat_clear_snapshot()::text || '', n_tup_ins FROM pg_stat_user_tables
			WHERE relid = 'transactions'::regclass`).Scan(new(string), &n); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// A row refused by a check that runs once the COPY's rows are in (an
// AFTER trigger, as a foreign key is) is not named by the error: the
// careful write halves its COPYs until the refused rows stand alone.
// Exactly those rows are rejected, every other row goes in once.
func TestRefusedAfterTheCopyHalves(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	if _, err := conn.Exec(context.Background(), `
		CREATE FUNCTION refuse_late() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'invoice % is on hold', NEW.invoice_number;
		END $$;
		CREATE TRIGGER refuse_late AFTER INSERT ON transactions
			FOR EACH ROW WHEN (NEW.invoice_number LIKE 'LATE%') EXECUTE FUNCTION refuse_late();`); err != nil {
		t.Fatal(err)
	}
	const rows = 20_000
	var want []int
	g := testgen.CSV(t, t.TempDir(), "late.csv", testgen.Spec{Rows: rows, Edit: func(i int, f []string) {
		if i%1500 == 77 || i == 78 {
			f[0] = fmt.Sprintf("LATE-%d", i)
			want = append(want, i)
		}
	}})
	opts := testOptions(cfg)
	opts.ChunkSize, opts.ChunksPerCommit = 100, 200
	sum := Import(context.Background(), Input{Name: g.Path}, opts)
	if sum.Status != store.StatusPartialSuccess || sum.RowsRejected != int64(len(want)) {
		t.Fatalf("summary %+v, want %d rows rejected", sum, len(want))
	}
	for i, r := range want {
		want[i] = g.Lines[r]
	}
	if got := pgtest.RejectedLines(t, *sum.RejectsFile); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected lines %v, want %v", got, want)
	}
	pgtest.CheckInvariant(t, conn, sum.SourceKey, g.Lines, *sum.RejectsFile)
}
