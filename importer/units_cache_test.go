package importer

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
	"github.com/batchimport/batchimport/units"
)

// A line's own pack size converts it, whatever earlier lines of the same
// SKU, unit and item were converted by: what resolving a line found is
// kept per line, pack included.
func TestLineCacheHeedsLinePack(t *testing.T) {
	catalogue := func(context.Context, string) (store.Catalogue, error) {
		return store.Catalogue{
			Items:    []store.Item{{ID: 7, Name: "Roma Tomatoes 25lb", Normalized: mapping.DescriptionKey("Roma Tomatoes 25lb"), Unit: "lb"}},
			Mappings: []store.Mapping{{Vendor: mapping.NormalizeVendor("Sysco"), KeyKind: string(mapping.KeySKU), Key: "RT-1", ItemID: 7, Method: "exact", Score: 1}},
		}, nil
	}
	line := func(pack string) *invoice.Line {
		return &invoice.Line{Account: "default", Vendor: "Sysco", VendorSKU: "RT-1", Description: "Roma Tomatoes",
			Quantity: fixed.New(2, 0), Unit: "CS", Pack: pack}
	}
	base := func(r *resolver, l *invoice.Line) decimal.Decimal {
		t.Helper()
		res, m, err := r.match(context.Background(), l)
		if err != nil || res.Item == nil || res.Item.ID != 7 || res.Method != mapping.MethodStored {
			t.Fatalf("pack %q: %+v, %v; want item 7 by its stored mapping", l.Pack, res, err)
		}
		if m.f.One() {
			return l.Quantity.Decimal()
		}
		return units.Convert(l.Quantity, m.f).Decimal()
	}
	r := newResolver(catalogue, mapping.Options{}, false)
	for range 2 { // the second time from what the first kept
		if b := base(r, line("")); !b.Equal(decimal.NewFromInt(50)) {
			t.Errorf("no pack: %v lb, want 50 (the name's 25 lb)", b)
		}
		if b := base(r, line("1/20LB")); !b.Equal(decimal.NewFromInt(40)) {
			t.Errorf("pack 1/20LB: %v lb, want 40", b)
		}
	}
	if len(r.lines) != 2 {
		t.Errorf("%d lines kept, want 2", len(r.lines))
	}
	fresh := newResolver(catalogue, mapping.Options{}, false)
	if b := base(fresh, line("1/20LB")); !b.Equal(decimal.NewFromInt(40)) {
		t.Errorf("pack 1/20LB first: %v lb, want 40", b)
	}
}

// Only a line resolved by a stored mapping is kept: a line that created an
// item counts as created once, and the same line again is resolved by the
// mapping it stored.
func TestLineCacheKeepsOnlyStoredMatches(t *testing.T) {
	r := newResolver(func(context.Context, string) (store.Catalogue, error) { return store.Catalogue{}, nil }, mapping.Options{}, false)
	l := &invoice.Line{Account: "default", Vendor: "Sysco", VendorSKU: "N-1", Description: "Basil Fresh 1 lb",
		Quantity: fixed.New(3, 0), Unit: "lb"}
	first, _, err := r.match(context.Background(), l)
	if err != nil || !first.Created {
		t.Fatalf("first line: %+v, %v; want an item created", first, err)
	}
	if len(r.lines) != 0 {
		t.Errorf("a created item's line was kept")
	}
	again, _, err := r.match(context.Background(), l)
	if err != nil || again.Created || again.Method != mapping.MethodStored || again.Item != first.Item {
		t.Errorf("same line again: %+v, %v; want the created item by its stored mapping", again, err)
	}
}

// A line with a SKU resolved by its description is kept only until a
// mapping of a SKU is stored: a later line may store one of that SKU,
// which the same line then follows, as it would without anything kept.
func TestLineCacheFollowsASKUMappedLater(t *testing.T) {
	vendor := mapping.NormalizeVendor("Sysco")
	r := newResolver(func(context.Context, string) (store.Catalogue, error) {
		return store.Catalogue{
			Items: []store.Item{{ID: 1, Name: "Chicken Thighs", Normalized: mapping.DescriptionKey("Chicken Thighs"), Unit: "lb"}},
			Mappings: []store.Mapping{{Vendor: vendor, KeyKind: string(mapping.KeyDescription), Key: mapping.DescriptionKey("Chicken Thighs"),
				ItemID: 1, Method: "exact", Score: 1}},
		}, nil
	}, mapping.Options{}, false)
	line := func(desc string) *invoice.Line {
		return &invoice.Line{Account: "default", Vendor: "Sysco", VendorSKU: "123", Description: desc, Quantity: fixed.New(1, 0), Unit: "lb"}
	}
	first, _, err := r.match(context.Background(), line("Chicken Thighs"))
	if err != nil || first.Item.ID != 1 {
		t.Fatalf("first line: %+v, %v; want item 1 by its description's mapping", first, err)
	}
	if len(r.lines) != 1 {
		t.Errorf("%d lines kept, want the first", len(r.lines))
	}
	brisket, _, err := r.match(context.Background(), line("Beef Brisket"))
	if err != nil || !brisket.Created {
		t.Fatalf("second line: %+v, %v; want an item created, SKU 123 mapped to it", brisket, err)
	}
	again, _, err := r.match(context.Background(), line("Chicken Thighs"))
	if err != nil || again.Item != brisket.Item {
		t.Errorf("first line again: item %+v, %v; want the item SKU 123 is now mapped to, as resolving it afresh gives", again.Item, err)
	}
}
