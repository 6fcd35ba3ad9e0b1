package importer

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
)

// The mapping report (--mapping-report) lists each distinct vendor key
// resolved in a run. The resolver notes each key the first time it sees
// it; the writer keeps the notes of committed chunks. Its size grows with
// distinct keys, not with the file.

type reportKey struct{ account, vendor, kind, key string }

type reportEntry struct {
	reportKey
	method string
	id     *int64
	name   string
	score  float64
}

// reportEntry returns the line's entry the first time its key is seen: its
// SKU when it has one, else its normalized description.
func (r *resolver) reportEntry(l *invoice.Line, res mapping.Result, id *int64) (reportEntry, bool) {
	if r.report == nil {
		return reportEntry{}, false
	}
	k := reportKey{account: l.Account, vendor: l.Vendor, kind: string(mapping.KeyDescription), key: mapping.DescriptionKey(l.Description)}
	if l.VendorSKU != "" {
		k.kind, k.key = string(mapping.KeySKU), l.VendorSKU
	}
	if r.report[k] {
		return reportEntry{}, false
	}
	r.report[k] = true
	return reportEntry{reportKey: k, method: string(res.Method), id: id, name: res.Item.Name, score: res.Score}, true
}

// writeReport writes the entries as CSV.
func writeReport(w io.Writer, entries []reportEntry) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"account", "vendor", "key_kind", "key", "method", "item_id", "item_name", "score"})
	for _, e := range entries {
		_ = cw.Write([]string{e.account, e.vendor, e.kind, e.key, e.method, strconv.FormatInt(*e.id, 10), e.name,
			strconv.FormatFloat(e.score, 'f', 4, 64)})
	}
	cw.Flush()
	return cw.Error()
}
