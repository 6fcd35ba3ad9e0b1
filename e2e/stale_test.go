//go:build unix

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// An import holds the lock of its own account only. Rows of another
// account are resolved against that account's catalogue as loaded; once a
// correction changes it, the import's next commit is refused and the run
// stops, nothing of it written since; run again, it resumes from its
// checkpoint against the corrected catalogue.
func TestImportStopsOnACorrectedCatalogue(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	const header = "account,invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"
	base := imported(t, cfg, 0, writeCSV(t, dir, "base.csv", header+
		"other,A-1,2026-05-04,US Foods,,Green Onions,3,ea,1.00\nother,A-2,2026-05-04,Sysco,,Scallions,2,ea,1.00\n"), "--allow-account", "other")

	first := "B-1,2026-06-02,Sysco,,Scallions,1,ea,1.00\n"
	rest := "B-2,2026-06-03,Sysco,,Scallions,4,ea,1.00\nB-2,2026-06-03,Sysco,,Green Onions,5,ea,1.00\n"
	input := header + "other," + first + "other," + strings.ReplaceAll(rest, "\nB-2", "\nother,B-2")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	args := []string{"import", "--format", "csv", "--chunk-size", "1", "--source-id", "june", "--allow-account", "other", "--output", "json", "-"}
	p := startWith(t, cfg, r, args...)
	r.Close()
	if _, err := w.WriteString(input[:len(header)+len("other,")+len(first)]); err != nil {
		t.Fatal(err)
	}
	var run int64
	for deadline := time.Now().Add(time.Minute); run == 0; time.Sleep(10 * time.Millisecond) {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the import ended or stalled before its first checkpoint:\n%s%s", p.stdout.String(), p.stderr.String())
		}
		_ = conn.QueryRow(context.Background(), `SELECT id FROM runs WHERE source_key = 'june' AND checkpoint_line >= 2`).Scan(&run)
	}
	// The import holds account default, not other: the merge goes ahead.
	bi(t, cfg, 0, "items", "merge", "Scallions", "Green Onions", "--account", "other")
	if _, err := w.WriteString(input[len(header)+len("other,")+len(first):]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if code := p.wait(t); code != 1 || !strings.Contains(p.stderr.String(), `was corrected while this import ran (correction 1, items merge)`) {
		t.Fatalf("the import after a correction of its rows' account: exit %d; want 1, naming the correction\n%s", code, p.stderr.String())
	}
	countIs(t, conn, 1, `SELECT count(*) FROM transactions WHERE run_id = $1`, run)
	pgtest.CheckQuantities(t, conn)

	// Run again with the same input, it goes on from its checkpoint, and
	// its Scallions are Green Onions now.
	in := writeCSV(t, dir, "june.csv", input)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	again := startWith(t, cfg, f, args...)
	if code := again.wait(t); code != 0 {
		t.Fatalf("the import run again: exit %d\n%s%s", code, again.stdout.String(), again.stderr.String())
	}
	if s := again.summary(t); s["run_id"] != float64(run) || s["rows_imported"] != 3.0 {
		t.Errorf("the import run again: %v; want run %d resumed, its 3 rows in", s, run)
	}
	listIs(t, conn, "Green Onions=15.000", `SELECT name || '=' || quantity FROM inventory_items WHERE account = 'other' ORDER BY name`)
	accounted(t, conn, map[string][]int{base["source_key"].(string): {2, 3}, "june": {2, 3, 4}})
}

// writeCSV writes a file as given.
func writeCSV(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := dir + "/" + name
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
