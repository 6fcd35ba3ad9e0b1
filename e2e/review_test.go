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

	"github.com/batchimport/batchimport/internal/pgtest"
)

// The review loop: with --on-fuzzy review --on-new review, lines that would
// be matched fuzzily or create an item are rejected and proposed; accepted
// proposals make them import, a declined match is not proposed again, and
// every record ends up once in transactions or in rejects.
func TestReviewLoop(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	dir := t.TempDir()
	write := func(name, body string) string { return writeLines(t, dir, name, body) }
	base := write("base.csv", `A-1,2026-05-04,Sysco,,"Parmesan Cheese, grated",5,lb,8.99
A-1,2026-05-04,Sysco,,Chicken Thighs Boneless,30,lb,2.49
A-1,2026-05-04,Sysco,,Roma Tomatoes,25,lb,1.49
`)
	if p, code := runBin(t, cfg, "import", "--output", "json", base); code != 0 {
		t.Fatalf("base: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	parmesan, thighs := itemID(t, conn, "Parmesan Cheese, grated"), itemID(t, conn, "Chicken Thighs Boneless")

	june := write("june.csv", `B-1,2026-06-02,Sysco,SY-7002,"Parmesan Chese, Grated",2,lb,9.10
B-1,2026-06-02,Sysco,,Tomatoes Roma,10,lb,1.49
B-1,2026-06-02,Sysco,,Cherry Tomato Red,4,pt,3.10
B-1,2026-06-02,Sysco,,Chicken Thighs Boneless IQF,12,lb,2.49
B-1,2026-06-02,Sysco,,Cherry Tomato Red,2,pt,3.10
`)
	p, code := runBin(t, cfg, "import", "--on-fuzzy", "review", "--on-new", "review", "--output", "json", june)
	s := p.summary(t)
	if code != 3 || s["rows_imported"] != 1.0 || s["rows_rejected"] != 4.0 {
		t.Fatalf("june with review: exit %d, %v\n%s", code, s, p.stderr.String())
	}
	rejects := s["rejects_file"].(string)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), []int{2, 3, 4, 5, 6}, rejects)
	reasons := rejectReasons(t, rejects)
	fix := "; accept or decline it (batchimport mappings pending), then import the rejects again"
	want := []string{
		fmt.Sprintf(`needs review: fuzzy match to item %d "Parmesan Cheese, grated" (0.88)`, parmesan) + fix,
		`needs review: no item matches; new item "Cherry Tomato Red" proposed` + fix,
		fmt.Sprintf(`needs review: fuzzy match to item %d "Chicken Thighs Boneless" (0.85)`, thighs) + fix,
		`needs review: no item matches; new item "Cherry Tomato Red" proposed` + fix,
	}
	if strings.Join(reasons, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reasons:\n%s\nwant:\n%s", strings.Join(reasons, "\n"), strings.Join(want, "\n"))
	}

	// Three proposals, the new item once.
	p, code = runBin(t, cfg, "mappings", "pending", "--output", "json")
	if code != 0 {
		t.Fatalf("mappings pending: exit %d\n%s", code, p.stderr.String())
	}
	var pending []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(p.stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("mappings pending: %v: %q", err, line)
		}
		pending = append(pending, m)
	}
	if len(pending) != 3 || pending[0]["item_id"] != float64(parmesan) || pending[1]["new_item"] != "Cherry Tomato Red" ||
		pending[2]["item_id"] != float64(thighs) {
		t.Fatalf("pending proposals: %v", pending)
	}
	id := func(i int) string { return fmt.Sprint(pending[i]["id"].(float64)) }
	if p, code := runBin(t, cfg, "mappings", "accept", id(0), id(1)); code != 0 {
		t.Fatalf("accept: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if p, code := runBin(t, cfg, "mappings", "decline", id(2)); code != 0 {
		t.Fatalf("decline: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	if p, code := runBin(t, cfg, "mappings", "accept", id(2)); code == 0 || !strings.Contains(p.stderr.String(), "no such pending proposal") {
		t.Errorf("accepting a declined proposal: exit %d, %s", code, p.stderr.String())
	}

	// The rejects again, as they are: the accepted come home to their
	// items, the declined match creates an item rather than match again.
	p, code = runBin(t, cfg, "import", "--output", "json", rejects)
	s = p.summary(t)
	// The accepted new item was created by the accept: the import creates
	// only the item the declined match leaves the line to.
	if code != 0 || s["rows_imported"] != 4.0 || s["items_created"] != 1.0 {
		t.Fatalf("the rejects again: exit %d, %v\n%s", code, s, p.stderr.String())
	}
	cherry, iqf := itemID(t, conn, "Cherry Tomato Red"), itemID(t, conn, "Chicken Thighs Boneless IQF")
	checkStock(t, conn, map[string]string{
		"Parmesan Cheese, grated lb": "7.000", "Chicken Thighs Boneless lb": "30.000", "Roma Tomatoes lb": "35.000",
		"Cherry Tomato Red pt": "6.000", "Chicken Thighs Boneless IQF lb": "12.000",
	})
	if cherry == 0 || iqf == 0 {
		t.Fatal("items not created")
	}
	p, _ = runBin(t, cfg, "mappings", "pending")
	if got := strings.TrimSpace(p.stdout.String()); strings.Contains(got, "\n") {
		t.Errorf("proposals still pending:\n%s", got)
	}
	pgtest.CheckQuantities(t, conn)
	var total int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM transactions`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 3+5 {
		t.Errorf("%d transactions, want the 3 of base and the 5 of june once each", total)
	}
}

func TestReviewFlags(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	for _, args := range [][]string{
		{"--no-create", "--on-new", "review"},
		{"--on-new", "maybe"},
		{"--on-fuzzy", "create"},
	} {
		p, code := runBin(t, cfg, append(append([]string{"import"}, args...), "x.csv")...)
		if code != 2 {
			t.Errorf("import %v: exit %d, want 2 (usage)\n%s", args, code, p.stderr.String())
		}
	}
}

// A run reverted for too many rejects takes back what it proposed.
func TestRevertedRunTakesItsProposals(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	path := filepath.Join(t.TempDir(), "new.csv")
	if err := os.WriteFile(path, []byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+
		"C-1,2026-06-02,Sysco,,Cherry Tomato Red,4,pt,3.10\nC-1,2026-06-02,Sysco,,Grape Tomatoes,2,pt,3.10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, code := runBin(t, cfg, "import", "--on-new", "review", "--max-rejects", "1", "--output", "json", path)
	if s := p.summary(t); code != 1 || s["reverted"] != true {
		t.Fatalf("exit %d, %v; want the run reverted", code, s)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM mapping_proposals`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d proposals left by a reverted run", n)
	}
}

// writeLines writes invoice lines, under the header of the contract's
// columns, to a file in dir.
func writeLines(t *testing.T, dir, name, lines string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+lines), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
