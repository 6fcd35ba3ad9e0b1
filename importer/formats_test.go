package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/internal/testgen"
	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// sampleRecords are the same invoice lines in every format's test; values
// are strings so that JSON keeps every digit.
func sampleRecords(n int) []map[string]string {
	var out []map[string]string
	for i := range n {
		out = append(out, map[string]string{
			"invoice_number": fmt.Sprintf("INV-%d", i/10),
			"invoice_date":   "2026-05-04",
			"vendor":         []string{"Sysco", "US Foods"}[i%2],
			"vendor_sku":     fmt.Sprintf("SKU-%d", i%37),
			"description":    productName(i % 37),
			"quantity":       fmt.Sprintf("%d.%03d", i%9+1, i%1000),
			"unit":           "case",
			"unit_price":     fmt.Sprintf("%d.%04d", i%50, i%10000),
		})
	}
	out[3]["quantity"] = "1.2345" // one bad row, rejected in every format
	return out
}

var adjectives = []string{"Smoked", "Fresh", "Frozen", "Organic", "Sweet", "Roasted"}
var nouns = []string{"Apricots", "Beets", "Cabbage", "Dill", "Eggplant", "Figs", "Ginger"}

func productName(i int) string {
	return adjectives[i%len(adjectives)] + " " + nouns[i/len(adjectives)%len(nouns)]
}

func writeFormats(t *testing.T, dir string, recs []map[string]string) map[string]string {
	t.Helper()
	var csvBuf, ndjson bytes.Buffer
	csvBuf.WriteString(strings.Join(invoice.Fields[:8], ",") + "\n")
	for _, r := range recs {
		var vals []string
		for _, f := range invoice.Fields[:8] {
			vals = append(vals, r[f])
		}
		csvBuf.WriteString(strings.Join(vals, ",") + "\n")
		b, _ := json.Marshal(r)
		ndjson.Write(b)
		ndjson.WriteByte('\n')
	}
	pretty, _ := json.MarshalIndent(recs, "", "  ")
	oneLine, _ := json.Marshal(recs)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(csvBuf.Bytes())
	zw.Close()
	files := map[string][]byte{
		"in.csv": csvBuf.Bytes(), "in.csv.gz": gz.Bytes(), "in.ndjson": ndjson.Bytes(),
		"in.json": pretty, "oneline.json": oneLine,
	}
	paths := map[string]string{}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// importedRows renders what an import wrote, independent of runs and lines.
func importedRows(t *testing.T, cfg store.Config) string {
	t.Helper()
	conn := pgtest.Conn(t, cfg)
	rows, err := conn.Query(context.Background(), `SELECT t.invoice_number, t.invoice_date::text, t.vendor, t.vendor_sku,
		t.description, t.quantity::text, t.unit, t.unit_cost::text, i.name, i.quantity::text
		FROM transactions t JOIN inventory_items i ON i.account = t.account AND i.id = t.item_id ORDER BY t.record_no`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	return b.String()
}

func TestFormatsImportIdentically(t *testing.T) {
	t.Parallel()
	recs := sampleRecords(1234)
	paths := writeFormats(t, t.TempDir(), recs)
	var want string
	for _, name := range []string{"in.csv", "in.csv.gz", "in.ndjson", "in.json", "oneline.json", "stdin"} {
		cfg := pgtest.Schema(t)
		opts := testOptions(cfg)
		in := Input{Name: paths[name]}
		if name == "stdin" {
			f, err := os.Open(paths["in.csv"])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			in = Input{Name: "-", Stdin: f}
			opts.Format = invoice.CSV
			opts.RejectsPath = filepath.Join(t.TempDir(), "stdin.rejects.csv")
		}
		sum := Import(context.Background(), in, opts)
		if sum.Status != store.StatusPartialSuccess || sum.RowsImported != 1233 || sum.RowsRejected != 1 {
			t.Fatalf("%s: %s imported %d rejected %d (%v)", name, sum.Status, sum.RowsImported, sum.RowsRejected, sum.Error)
		}
		got := importedRows(t, cfg)
		if want == "" {
			want = got
			continue
		}
		if got != want {
			t.Errorf("%s imported other rows than in.csv", name)
		}
	}
}

// Elements of a one-line JSON array share a line; they are still distinct
// records, and a resumed run does not lose or repeat any of them.
func TestOneLineJSONArrayResumes(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	recs := sampleRecords(2100)
	paths := writeFormats(t, t.TempDir(), recs)
	ctx, cancel := context.WithCancel(context.Background())
	opts := testOptions(cfg)
	opts.Progress = cancelAfter{cancel: cancel, rows: 1000}
	opts.ChunksPerCommit = 1 // commit each chunk, so the interruption comes between commits
	first := Import(ctx, Input{Name: paths["oneline.json"]}, opts)
	if first.Status != store.StatusInterrupted || first.RowsRead >= 2100 {
		t.Fatalf("first run: %s after %d rows, want interrupted part way", first.Status, first.RowsRead)
	}
	second := Import(context.Background(), Input{Name: paths["oneline.json"]}, testOptions(cfg))
	if second.Status != store.StatusPartialSuccess || second.RowsImported != 2099 || second.RowsRejected != 1 || *second.RunID != *first.RunID {
		t.Fatalf("resumed run: %+v", second)
	}
	conn := pgtest.Conn(t, cfg)
	var n, distinct int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT record_no) FROM transactions WHERE line_no = 1`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 2099 || distinct != 2099 {
		t.Errorf("%d rows (%d distinct records) on line 1, want 2099", n, distinct)
	}
	pgtest.CheckQuantities(t, conn)
}

// A run resumed with another --rejects records it: the rejects file it
// writes, and the one a later skip writes again when it is missing, are
// there.
func TestResumeRecordsItsRejectsFile(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	g := testgen.CSV(t, dir, "r.csv", testgen.Spec{Rows: 3000, BadEvery: 50})
	ctx, cancel := context.WithCancel(context.Background())
	opts := testOptions(cfg)
	opts.Progress = cancelAfter{cancel: cancel, rows: 1000}
	opts.ChunksPerCommit = 1
	if first := Import(ctx, Input{Name: g.Path}, opts); first.Status != store.StatusInterrupted {
		t.Fatalf("first run: %s, want interrupted", first.Status)
	}
	moved := filepath.Join(dir, "moved.rejects.csv")
	opts = testOptions(cfg)
	opts.RejectsPath = moved
	second := Import(context.Background(), Input{Name: g.Path}, opts)
	if second.Status != store.StatusPartialSuccess || second.RejectsFile == nil || *second.RejectsFile != moved {
		t.Fatalf("resumed run: %s, rejects file %v, want %s (%v)", second.Status, second.RejectsFile, moved, second.Error)
	}
	conn := pgtest.Conn(t, cfg)
	var recorded string
	if err := conn.QueryRow(context.Background(), `SELECT rejects_file FROM import_runs WHERE id = $1`, *second.RunID).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != moved {
		t.Errorf("the run records rejects file %s, want %s", recorded, moved)
	}
	if err := os.Remove(moved); err != nil {
		t.Fatal(err)
	}
	if third := Import(context.Background(), Input{Name: g.Path}, testOptions(cfg)); third.Status != store.StatusSkipped || third.RejectsFile == nil || *third.RejectsFile != moved {
		t.Errorf("skipped run: %s, rejects file %v, want %s written again", third.Status, third.RejectsFile, moved)
	}
	pgtest.CheckInvariant(t, conn, second.SourceKey, g.Lines, moved)
}

// cancelAfter interrupts a run once it has handled some rows, as a signal
// would.
type cancelAfter struct {
	NoProgress
	cancel func()
	rows   int64
}

func (c cancelAfter) Update(_, rows, _ int64) {
	if rows >= c.rows {
		c.cancel()
	}
}
