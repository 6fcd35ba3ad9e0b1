package pgtest

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

// RejectedLines reads the _line column of a CSV rejects file; a missing
// file has none.
func RejectedLines(t testing.TB, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		t.Fatalf("rejects file %s: %v", path, err)
	}
	col := -1
	for i, h := range header {
		if h == "_line" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("rejects file %s has no _line column: %v", path, header)
	}
	var lines []int
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("rejects file %s: %v", path, err)
		}
		// _line is the second last column: records with extra fields keep
		// them before _line and _error.
		n, err := strconv.Atoi(rec[len(rec)-2])
		if err != nil {
			t.Fatalf("rejects file %s: bad _line %q", path, rec[len(rec)-2])
		}
		lines = append(lines, n)
	}
}

// RecordLines returns the line where each record of a CSV file starts (the
// header is line 1).
func RecordLines(t testing.TB, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var lines []int
	for first := true; ; first = false {
		_, err := r.Read()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if line, _ := r.FieldPos(0); !first {
			lines = append(lines, line)
		}
	}
}

// RejectsColumn returns a column of a CSV rejects file, by name.
func RejectsColumn(t testing.TB, path, name string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := slices.Index(all[0], name)
	if col < 0 {
		t.Fatalf("%s has no column %s: %v", path, name, all[0])
	}
	// Counted from the end: records with extra fields keep them before the
	// columns a rejects file adds.
	fromEnd := len(all[0]) - col
	var out []string
	for _, rec := range all[1:] {
		out = append(out, rec[len(rec)-fromEnd])
	}
	return out
}

// CheckInvariant asserts the import invariant for one source whose records
// start at the given lines: each line is exactly once either a transaction
// of the source's runs or a reject of them, as stored in the database and
// as written in the rejects file (when rejectsPath is not empty: the file
// must hold exactly the stored rejects), and every item's quantity equals
// the sum of its transactions' quantities.
func CheckInvariant(t testing.TB, conn *pgx.Conn, sourceKey string, lines []int, rejectsPath string) {
	t.Helper()
	CheckInvariantOf(t, conn, sourceKey, "", lines, rejectsPath)
}

// CheckInvariantOf is CheckInvariant for the runs of one account ("": all).
func CheckInvariantOf(t testing.TB, conn *pgx.Conn, sourceKey, account string, lines []int, rejectsPath string) {
	t.Helper()
	imported := linesOf(t, conn, `SELECT t.line_no FROM transactions t JOIN import_runs r ON r.id = t.run_id
		WHERE r.source_key = $1 AND $2 IN ('', r.account)`, sourceKey, account)
	stored := linesOf(t, conn, `SELECT j.line_no FROM rejects j JOIN import_runs r ON r.id = j.run_id
		WHERE r.source_key = $1 AND $2 IN ('', r.account) AND r.status <> 'reverted'`, sourceKey, account)
	if rejectsPath != "" {
		inFile := RejectedLines(t, rejectsPath)
		slices.Sort(inFile)
		if !slices.Equal(inFile, stored) {
			t.Errorf("the rejects file %s holds %d rejects, the database %d: they differ", rejectsPath, len(inFile), len(stored))
		}
	}
	seen := map[int]int{}
	for _, l := range slices.Concat(imported, stored) {
		seen[l]++
	}
	want := map[int]bool{}
	for _, l := range lines {
		want[l] = true
		if seen[l] != 1 {
			t.Errorf("line %d is %d times in transactions+rejects, want exactly once", l, seen[l])
		}
	}
	for l, n := range seen {
		if !want[l] {
			t.Errorf("line %d (%d times) is not a record of the input", l, n)
		}
	}
	CheckQuantities(t, conn)
	t.Logf("invariant holds: %d records = %d imported + %d rejected", len(lines), len(imported), len(stored))
}

// linesOf runs a query of line numbers, and returns them sorted.
func linesOf(t testing.TB, conn *pgx.Conn, sql string, args ...any) []int {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

// CheckQuantities asserts that every item's quantity equals the exact sum of
// its transactions.
func CheckQuantities(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	var bad int
	var example string
	err := conn.QueryRow(context.Background(), `
		SELECT count(*), coalesce(min(i.name || ': ' || i.quantity || ' <> ' || coalesce(s.sum, 0)), '')
		FROM inventory_items i
		LEFT JOIN (SELECT account, item_id, sum(base_quantity) AS sum FROM transactions GROUP BY 1, 2) s
		  ON s.account = i.account AND s.item_id = i.id
		WHERE i.quantity <> coalesce(s.sum, 0)`).Scan(&bad, &example)
	if err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d items whose quantity is not the sum of their transactions, e.g. %s", bad, example)
	}
}

// RefusePoison makes the database refuse the rows of invoices whose number
// starts with POISON, as an operator's trigger would.
func RefusePoison(t testing.TB, conn *pgx.Conn) {
	t.Helper()
	_, err := conn.Exec(context.Background(), `
		CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.invoice_number LIKE 'POISON%' THEN
				RAISE EXCEPTION 'invoice % is on hold', NEW.invoice_number;
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON transactions
			FOR EACH ROW EXECUTE FUNCTION refuse_poison();`)
	if err != nil {
		t.Fatal(err)
	}
}
