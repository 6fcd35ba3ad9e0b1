package mapping

import (
	"slices"
	"testing"
)

// The look-alikes of SPEC §13 never match, exactly or fuzzily; a line
// without the size, number or qualifier still matches.
func TestConflictsNeverMatch(t *testing.T) {
	for _, c := range []struct {
		item, line string
		match      bool
	}{
		{"Salmon Fillet Atlantic Skin On", "Salmon Fillet Atlantic Skin Off", false},
		{"Salmon Fillet Atlantic Skin On", "Salmon Fillet Atlantic Skinless", false},
		{"Salmon Fillet Atlantic Skin On", "SALMON FILLET ATLANTIC", true},
		{"Keg Stella Artois 1/2 bbl", "Keg Stella Artois 1/6 bbl", false},
		{"Keg Stella Artois 1/2 bbl", "KEG STELLA ARTOIS 1/2 BBL", true},
		{"Pinot Grigio 2022", "Pinot Grigio 2023", false},
		{"Pinot Grigio 2022", "Pinot Grigio", true},
		{"Cups 12 oz", "Cups 16 oz", false},
		{"Cups 12 oz", "Cups 0.75 lb", true}, // the same size
		{"Cups 12 oz", "CUPS", true},
		// A piece and a case each: the pieces must agree, not only the case.
		{"Chicken Breast 6oz 10lb", "Chicken Breast 8oz 10lb", false},
		{"Chicken Breast 6oz 10lb", "Chicken Breast 8 oz 4/10 lb", false},
		{"Chicken Breast 6oz 10lb", "CHICKEN BREAST 6 OZ 40 LB", true},
		{"Chicken Breast 6oz 10lb", "Chicken Breast 10lb", true},
		{"Chicken Breast 4/10 lb", "Chicken Breast 6 oz 4/10 lb", true}, // one states no piece
		{"Beef Patty 80/20 2/5 lb", "Beef Patty 80/20 4 oz 2/5 lb", true},
		{"Chicken Wings 4/10 lb", "Chicken Wings 2/20 lb", true}, // packs of one case: no pieces
		{"Water 12x1L", "Water 6x2L", true},
		{"Whole Milk 4/1 gal", "Whole Milk 2/1 gal", true},
		{"Whole Milk 4/1 gal", "Whole Milk 1 gal", true},
		// A bare oz may be a fluid ounce, as labels round it.
		{"Cups Foam 12 oz", "Cups Foam 16 fl oz", false},
		{"Cups Foam 12 oz", "Cups Foam 12 fl oz", true},
		{"Orange Juice 64 oz", "Orange Juice 1 gal", false},
		{"Orange Juice 64 oz", "Orange Juice 1/2 gal", true},
		{"Cheddar 16 oz", "Cheddar 1 lb", true},
		{"Water Spring 24/500 ml", "Water Spring 24/16.9 oz", true},
		{"Wine Cabernet 750 ml", "Wine Cabernet 25.4 oz", true},
		{"Tea Iced Black Filter Pack 1 oz 96 ct", "Tea Iced Black Filter Pack 1 oz 1 gal 96 ct", true}, // 1 oz a weight there
		{"Ground Beef 80/20", "Ground Beef 90/10", false},
		{"Ground Beef 80/20", "GROUND BEEF 80/20 10 LB", true},
		{"Shrimp 16/20 Raw", "Shrimp 21/25 Raw", false},
		{"Chicken Thigh Bone-In", "Chicken Thigh Boneless", false},
		{"Butter Salted", "Butter Unsalted", false},
		{"Milk Whole", "Milk Skim", false},
		{"Milk Whole 1 gal", "MILK WHOLE 4/1 GAL", true}, // a pack of the same gallon
		{"Milk 2%", "Milk 1%", false},
		{"Cola Diet Syrup", "Cola Zero Syrup", false},
		{"Onion Yellow Jumbo", "Onion Red Jumbo", false},
		{"Peppers Bell Red", "Peppers Bell Red Yellow", false},
		{"Lemons 115 ct", "Lemons 140 ct", false},
		{"Strawberries 8 lb", "STRAWBERRY 8/1#", true},
		{"Potatoes Red B Size 50 lb", "Potatoes Red A Size 50 lb", false},
		{"Eggs Large Grade A", "Eggs Large Grade AA", false},
		{"Atlantic Salmon Fillet Skinless", "Atlantic Salmon Fillet Skin Off", true},
		// Units spelt out are sizes too.
		{"Orange Juice 12 fl oz", "Orange Juice 16 fl oz", false},
		{"Spring Water 1 Liter", "Spring Water 2 Liters", false},
		{"Ice Cream Vanilla 1 Quart", "Ice Cream Vanilla 1 Pint", false},
		{"Ground Beef 80/20 5 pounds", "Ground Beef 80/20 10 pounds", false},
		{"Coffee Ground 12 ounce", "Coffee Ground 16 ounce", false},
		{"Coffee Ground 16 ounce", "COFFEE GROUND 1 LB", true},
		// Decimal marks and thousands separators are read, not dropped.
		{"Milk 1.5%", "Milk 15%", false},
		{"Milk 3.25%", "MILK 3.25 %", true},
		{"Cream Liqueur 2.0", "Cream Liqueur 20", false},
		{"Sunflower Oil 1,5 L", "Sunflower Oil 5 L", false},
		{"Sunflower Oil 1,5 L", "Sunflower Oil 1.5 L", true},
		{"Roma Tomatoes 12,5 lb", "Roma Tomatoes 5 lb", false},
		{"Napkins 1,000 ct", "Napkins 2,000 ct", false},
		{"Napkins 1,000 ct", "NAPKINS 1000CT", true},
		{"Weizenmehl 1.000,5 kg", "Weizenmehl 5 kg", false},
		// A mixed fraction is its whole number and its fraction.
		{"Milk Whole 1 1/2 gal", "Milk Whole 1/2 gal", false},
		{"Milk Whole ½ gal", "Milk Whole 2 gal", false},
		{"Milk Whole ½ gal", "MILK WHOLE 1/2 GAL", true},
		{"Milk Whole 1½ gal", "Milk Whole 1-1/2 gal", true},
		{"Ground Beef 2 1/2 lb", "Ground Beef 1/2 lb", false},
		{"Merlot 2019 12x750ml", "Merlot 2019 6x375ml", false},
		// Units as suppliers abbreviate them, glued by a hyphen too.
		{"Wine Red Merlot 75cl", "Wine Red Merlot 37.5cl", false},
		{"Parmesan Grated 500 gms", "Parmesan Grated 250 gms", false},
		{"Cups Foam 12-oz", "Cups Foam 16-oz", false},
		{"Cups Foam 12-oz", "CUPS FOAM 12 OZ", true},
		{"Mozzarella 8/0,125 kg", "Mozzarella 8/125 g", true},
		// Counts no unit measures.
		{"Coke Classic 6pk", "Coke Classic 12pk", false},
		{"Coke Classic 6pk", "COKE CLASSIC", true},
		{"Cheesecake NY 16 cut", "Cheesecake NY 12 cut", false},
		{"Bacon 14-18 slice/lb", "Bacon 18-22 slice/lb", false},
		{"Fries Straight 3/8 Cut", "Fries Straight 1/4 Cut", false},
		{"Shrimp White 16/20 Cooked Tail On", "Shrimp White 16/20 Cooked Tail Off", false},
		{"Shrimp White 16/20 Cooked", "Shrimp White 16/20 Uncooked", false},
		{"Shrimp White 16/20 Head On", "Shrimp White 16/20 Headless", false},
		{"Bacon Applewood Smoked Thick Cut", "Bacon Applewood Smoked Thin Cut", false},
		{"Eggs Grade A Large 15 dz", "Eggs Grade A Medium 15 dz", false},
		{"Eggs Grade A Large 15 dz", "EGGS GRADE A 15 DZ", true},
	} {
		r := NewResolver([]Item{{ID: 1, Name: c.item}}, nil, Options{FuzzyThreshold: 0.3})
		res := mustResolve(t, r, Line{Vendor: "V", Description: c.line})
		if got := res.Item.ID == 1; got != c.match {
			t.Errorf("%q against item %q: matched %t (%s %.2f), want %t", c.line, c.item, got, res.Method, res.Score, c.match)
		}
	}
}

// Lines that differ only in a decimal mark are two items, each found
// again by its own lines: "1.5%" once read as "15%".
func TestDecimalsKeepItemsApart(t *testing.T) {
	r := NewResolver(nil, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	low := mustResolve(t, r, Line{Vendor: "V", Description: "Milk 1.5%"})
	high := mustResolve(t, r, Line{Vendor: "V", Description: "Milk 15%"})
	if !low.Created || !high.Created || low.Item == high.Item {
		t.Fatalf("Milk 1.5%% then Milk 15%%: %+v and %+v, want two new items", low, high)
	}
	for line, want := range map[string]*Item{"MILK 1.5 %": low.Item, "milk 15 pct": high.Item} {
		if res := mustResolve(t, r, Line{Vendor: "W", Description: line}); res.Item != want {
			t.Errorf("%q: got item %q (%s), want %q", line, res.Item.Name, res.Method, want.Name)
		}
	}
}

// An item whose name states no size takes the size of the lines matched
// to it, in the run and from its mappings since: a line of another size is
// then another item, in whatever order the lines come.
func TestItemsLearnWhatTheirNamesDoNotSay(t *testing.T) {
	r := NewResolver(nil, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	var got []*Item
	for _, d := range []string{"Cups Foam", "Cups Foam 12 oz", "Cups Foam 16 oz", "CUPS FOAM 12OZ", "Pinot Grigio", "Pinot Grigio 2022", "Pinot Grigio 2023"} {
		got = append(got, mustResolve(t, r, Line{Vendor: "V", Description: d}).Item)
	}
	if got[1] != got[0] || got[2] == got[0] || got[3] != got[0] || got[6] == got[5] {
		t.Errorf("items of the lines: %v; want 12 oz on the first item, 16 oz on another, 2023 apart from 2022", names(got))
	}
	// What a bare oz holds, and a piece, are learned too.
	got = got[:0]
	for _, d := range []string{"Cups Paper", "Cups Paper 12 oz", "Cups Paper 16 fl oz", "Chicken Breast", "Chicken Breast 6oz 10lb", "Chicken Breast 8oz 10lb"} {
		got = append(got, mustResolve(t, r, Line{Vendor: "V", Description: d}).Item)
	}
	if got[1] != got[0] || got[2] == got[0] || got[4] != got[3] || got[5] == got[3] {
		t.Errorf("items of the lines: %v; want 12 oz on the first item, 16 fl oz on another, 6oz 10lb on the third, 8oz 10lb on another", names(got))
	}
	// A later run: the item's mapping of 12 oz says what it is.
	r = NewResolver([]Item{{ID: 1, Name: "Cups Foam"}}, slices.Values([]StoredMapping{
		{Vendor: "v", KeyKind: KeyDescription, Key: "cup foam @340.1942775g", ItemID: 1},
	}), Options{FuzzyThreshold: DefaultFuzzyThreshold})
	if res := mustResolve(t, r, Line{Vendor: "W", Description: "Cups Foam 16 oz"}); res.Item.ID == 1 {
		t.Errorf("Cups Foam 16 oz: item 1, which its mapping says is 12 oz")
	}
	if res := mustResolve(t, r, Line{Vendor: "W", Description: "cups foam 12 oz"}); res.Item.ID != 1 {
		t.Errorf("cups foam 12 oz: item %q, want item 1", res.Item.Name)
	}
}

func names(items []*Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// Two items whose names differ only in size both exist: the second one
// created gets its sizes in its key, and each size finds its own item.
func TestSizesKeepItemsApart(t *testing.T) {
	r := NewResolver([]Item{{ID: 1, Name: "Cups 12 oz"}}, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	first := mustResolve(t, r, Line{Vendor: "V", Description: "Cups 16 oz"})
	if !first.Created || first.Item.Normalized != "cup @453.59237g" {
		t.Fatalf("Cups 16 oz: %+v (item %+v), want a new item keyed with its size", first, first.Item)
	}
	for _, c := range []struct {
		line string
		want *Item
	}{
		{"CUPS 16OZ", first.Item},
		{"cups 1 lb", first.Item},
		{"Cups 12 oz", r.items[0]},
		{"Cups", r.items[0]}, // no size: the first of them
	} {
		res := mustResolve(t, r, Line{Vendor: "W", Description: c.line})
		if res.Item != c.want {
			t.Errorf("%q: got item %q (%s), want %q", c.line, res.Item.Name, res.Method, c.want.Name)
		}
	}
}

// A description mapping stored without sizes (before keys held them)
// resolves a line with sizes, unless its item is of another size.
func TestUnsizedMappingsStillResolve(t *testing.T) {
	items := []Item{{ID: 9, Name: "Tomatoes, Plum"}, {ID: 10, Name: "Cups 12 oz"}}
	r := NewResolver(items, slices.Values([]StoredMapping{
		{Vendor: "sysco", KeyKind: KeyDescription, Key: Normalize("TOM ROMA 25#"), ItemID: 9, Method: MethodManual},
		{Vendor: "sysco", KeyKind: KeyDescription, Key: Normalize("CUPS 16 OZ"), ItemID: 10, Method: MethodManual},
	}), Options{FuzzyThreshold: DefaultFuzzyThreshold})
	if res := mustResolve(t, r, Line{Vendor: "Sysco", Description: "TOM ROMA 25#"}); res.Item.ID != 9 || res.Method != MethodStored {
		t.Errorf("TOM ROMA 25#: item %d by %s, want 9 by the stored mapping", res.Item.ID, res.Method)
	}
	if res := mustResolve(t, r, Line{Vendor: "Sysco", Description: "CUPS 16 OZ"}); res.Item.ID == 10 {
		t.Errorf("CUPS 16 OZ resolved to the 12 oz cups by a mapping without sizes")
	}
}
