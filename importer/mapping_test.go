package importer

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// --no-create rejects what cannot be resolved; --mapping-report lists each
// vendor key once with how it was resolved; fuzzy mappings are stored with
// their score.
func TestNoCreateAndMappingReport(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seed := write("seed.csv", "A,2026-05-01,Sysco,SY-1,Parmesan Cheese Grated,1,lb,9\nA,2026-05-01,Sysco,SY-2,Whole Milk,1,gal,3\n")
	if sum := Import(context.Background(), Input{Name: seed}, testOptions(cfg)); sum.Status != store.StatusSuccess || sum.ItemsCreated != 2 {
		t.Fatalf("seed: %+v", sum)
	}
	in := write("june.csv", ""+
		"B,2026-06-01,SYSCO,SY-1,anything,2,lb,9\n"+ // stored mapping by SKU
		"B,2026-06-01,Sysco,SY-9,Parmesan Chese Grated,1,lb,9\n"+ // fuzzy
		"B,2026-06-01,Sysco,SY-9,Parmesan Chese Grated,1,lb,9\n"+ // same key: listed once
		"B,2026-06-01,Sysco,,whole milk,4,gal,3\n"+ // stored mapping by description (the seed made it)
		"B,2026-06-01,Sysco,SY-7,Saffron Threads,1,g,12\n") // nothing matches: rejected
	opts := testOptions(cfg)
	opts.NoCreate = true
	opts.FuzzyThreshold = 0.85
	opts.MappingReport = filepath.Join(dir, "report.csv")
	sum := Import(context.Background(), Input{Name: in}, opts)
	if sum.Status != store.StatusPartialSuccess || sum.RowsImported != 4 || sum.RowsRejected != 1 || sum.ItemsCreated != 0 || sum.FuzzyMatches != 1 { // the repeat resolves by the stored mapping
		t.Fatalf("summary %+v", sum)
	}
	b, _ := os.ReadFile(*sum.RejectsFile)
	if !strings.Contains(string(b), "Saffron Threads") || !strings.Contains(string(b), "--no-create") {
		t.Errorf("rejects file:\n%s", b)
	}
	f, err := os.Open(opts.MappingReport)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, r := range rows[1:] {
		methods = append(methods, r[3]+"="+r[4]+":"+r[6])
	}
	want := "SY-1=stored:Parmesan Cheese Grated SY-9=fuzzy:Parmesan Cheese Grated milk whole=stored:Whole Milk"
	if got := strings.Join(methods, " "); got != want {
		t.Errorf("mapping report:\n got %s\nwant %s", got, want)
	}
	conn := pgtest.Conn(t, cfg)
	var score float64
	if err := conn.QueryRow(context.Background(), `SELECT score FROM item_mappings WHERE method = 'fuzzy' AND key_kind = 'sku' AND key = 'SY-9'`).Scan(&score); err != nil || score < 0.85 || score >= 1 {
		t.Errorf("fuzzy mapping score %v (%v), want in [0.85, 1)", score, err)
	}
	pgtest.CheckQuantities(t, conn)
}
