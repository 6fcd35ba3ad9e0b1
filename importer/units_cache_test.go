package importer

import (
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
)

// A line's own pack size converts it, whatever earlier lines of the same
// unit and item were converted by.
func TestFactorCacheHeedsLinePack(t *testing.T) {
	r := newResolver(nil, mapping.Options{}, false)
	it := &mapping.Item{ID: 7, Name: "Roma Tomatoes 25lb", Unit: "lb"}
	l1 := &invoice.Line{Account: "default", Description: "Roma Tomatoes", Quantity: decimal.NewFromInt(2), Unit: "CS"}
	l2 := &invoice.Line{Account: "default", Description: "Roma Tomatoes", Quantity: decimal.NewFromInt(2), Unit: "CS", Pack: "1/20LB"}
	b1, err1 := r.toBase(l1, it)
	b2, err2 := r.toBase(l2, it)
	if err1 != nil || err2 != nil || !b1.Equal(decimal.NewFromInt(50)) {
		t.Fatalf("no pack: %v %v, want 50 (the name's 25 lb); pack 1/20LB: %v %v", b1, err1, b2, err2)
	}
	fresh := newResolver(nil, mapping.Options{}, false)
	b3, _ := fresh.toBase(l2, it)
	if !b2.Equal(b3) {
		t.Errorf("same line converts to %v or %v depending on earlier lines", b2, b3)
	}
}
