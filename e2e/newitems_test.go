//go:build unix

package e2e

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
)

// newItemsCSV writes n lines that are each a new item: made-up words and
// a number no other line has, no SKU. It returns the path and the lines.
func newItemsCSV(t *testing.T, n int) (string, []int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	words := make([]string, 3000)
	for i := range words {
		var b strings.Builder
		for range 4 + rng.IntN(5) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		words[i] = b.String()
	}
	path := filepath.Join(t.TempDir(), "catalogue.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "invoice_number,invoice_date,vendor,description,quantity,unit,unit_price")
	lines := make([]int, n)
	for i := range n {
		fmt.Fprintf(w, "INV-%d,2026-03-02,Acme Foods,%s %s %s %d,2,ea,1.50\n", i/40, words[rng.IntN(len(words))],
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], i+1)
		lines[i] = i + 2
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, lines
}

// A file whose every line is a new item (a lot number in the description
// column) creates --max-new-items items, 50,000 unless told, and rejects
// the other lines, naming the flag: memory stays bounded (SPEC §16), the
// catalogue is not flooded, and the rejects import once the flag is
// raised.
func TestHostileFileOfNewItems(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	const n = 150_000
	path, lines := newItemsCSV(t, n)
	h := importMeasured(t, cfg, fmt.Sprintf("%d lines, each a new item", n), nil, "--source-id", "flood", path)
	if h.code != 3 {
		t.Fatalf("exit %d, want 3 (partial success)\n%s", h.code, h.out)
	}
	const limit = 50_000
	countIs(t, conn, limit, `SELECT count(*) FROM inventory_items`)
	countIs(t, conn, n-limit, `SELECT count(*) FROM rejects WHERE line_no > $1 AND reason LIKE '%--max-new-items%'`, limit+1)
	pgtest.CheckInvariant(t, conn, "flood", lines, defaultRejects(path))

	p, code := runBin(t, cfg, "import", "--max-new-items", "0", "--output", "json", defaultRejects(path))
	if code != 0 {
		t.Fatalf("the rejects with --max-new-items 0: exit %d, want 0\n%s", code, outputs(p))
	}
	countIs(t, conn, n, `SELECT count(*) FROM inventory_items`)
	countIs(t, conn, n, `SELECT count(*) FROM transactions`)
}

// Items created before a kill -9 count against --max-new-items when the
// run resumes: the run as a whole creates that many, and the lines it
// rejects for it are those after the last item it may create.
func TestMaxNewItemsAcrossAKill(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	const n, limit = 30_000, 20_000
	path, lines := newItemsCSV(t, n)
	args := []string{"import", "--max-new-items", fmt.Sprint(limit), "--chunk-size", "100", "--chunks-per-commit", "10", "--output", "json", path}

	p := start(t, cfg, args...)
	runID := waitForCheckpoint(t, conn, p, 0)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != -1 {
		t.Fatalf("exit %d, want death by signal (the run ended too soon: %s)", code, p.stdout.String())
	}
	killedAt := checkpointOf(t, conn, runID)
	if killedAt >= limit {
		t.Fatalf("killed after record %d, want before %d, where items stop being created", killedAt, limit)
	}
	p, code := runBin(t, cfg, args...)
	if code != 3 {
		t.Fatalf("resume: exit %d, want 3\n%s", code, outputs(p))
	}
	s := p.summary(t)
	if s["run_id"] != float64(runID) || s["resumed_from_line"] == nil {
		t.Errorf("resume summary %v: want run %d resumed", s, runID)
	}
	countIs(t, conn, limit, `SELECT count(*) FROM inventory_items`)
	countIs(t, conn, n-limit, `SELECT count(*) FROM rejects WHERE line_no > $1 AND reason LIKE '%--max-new-items%'`, limit+1)
	pgtest.CheckInvariant(t, conn, s["source_key"].(string), lines, defaultRejects(path))
	t.Logf("killed after record %d; %d items created by the run", killedAt, limit)
}
