package importer

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
)

// mappingReport collects each distinct vendor key resolved in a run, for
// --mapping-report. Its size grows with distinct keys, not with the file.
type mappingReport struct {
	seen      map[reportKey]bool
	entries   []reportEntry
	committed int // entries whose lines are committed
}

// commit marks the entries so far as committed.
func (r *mappingReport) commit() {
	if r != nil {
		r.committed = len(r.entries)
	}
}

// rollback forgets the entries of lines whose transaction failed: they are
// read and resolved again.
func (r *mappingReport) rollback() {
	if r == nil {
		return
	}
	for _, e := range r.entries[r.committed:] {
		delete(r.seen, e.reportKey)
	}
	r.entries = r.entries[:r.committed]
}

type reportKey struct{ account, vendor, kind, key string }

type reportEntry struct {
	reportKey
	method string
	id     *int64
	name   string
	score  float64
}

func newMappingReport() *mappingReport {
	return &mappingReport{seen: map[reportKey]bool{}}
}

// add records the line's key the first time it is seen: its SKU when it has
// one, else its normalized description.
func (r *mappingReport) add(l *invoice.Line, res mapping.Result, id *int64) {
	if r == nil {
		return
	}
	k := reportKey{account: l.Account, vendor: l.Vendor, kind: string(mapping.KeyDescription), key: mapping.Normalize(l.Description)}
	if l.VendorSKU != "" {
		k.kind, k.key = string(mapping.KeySKU), l.VendorSKU
	}
	if r.seen[k] {
		return
	}
	r.seen[k] = true
	r.entries = append(r.entries, reportEntry{reportKey: k, method: string(res.Method), id: id, name: res.Item.Name, score: res.Score})
}

// write writes the report as CSV.
func (r *mappingReport) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("mapping report: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"account", "vendor", "key_kind", "key", "method", "item_id", "item_name", "score"})
	for _, e := range r.entries {
		_ = w.Write([]string{e.account, e.vendor, e.kind, e.key, e.method, strconv.FormatInt(*e.id, 10), e.name,
			strconv.FormatFloat(e.score, 'f', 4, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("mapping report: %w", err)
	}
	return f.Close()
}
