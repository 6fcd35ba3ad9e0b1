package mapping

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// testItems is a small catalogue; IDs are deliberately not in input order.
func testItems() []Item {
	return []Item{
		{ID: 30, Name: "Whole Milk 1 gal", Unit: "gal"},
		{ID: 10, Name: "Chicken Breast Boneless Skinless", Unit: "lb"},
		{ID: 20, Name: "Chicken Thighs Boneless Skinless", Unit: "lb"},
		{ID: 40, Name: "Tomatoes Roma 25 lb", Unit: "cs"},
	}
}

func mustResolve(t *testing.T, r *Resolver, l Line) Result {
	t.Helper()
	res, err := r.Resolve(l)
	if err != nil {
		t.Fatalf("Resolve(%+v): %v", l, err)
	}
	return res
}

func TestResolveStoredSKU(t *testing.T) {
	r := NewResolver(testItems(), slices.Values([]StoredMapping{
		{Vendor: "sysco", KeyKind: KeySKU, Key: "AB-12", ItemID: 20, Method: MethodManual},
		{Vendor: "sysco", KeyKind: KeyDescription, Key: Normalize("whole milk"), ItemID: 40, Method: MethodFuzzy},
	}), Options{FuzzyThreshold: DefaultFuzzyThreshold})

	// The SKU mapping wins over the description mapping and over an exact
	// match of the description; the vendor is compared normalized.
	res := mustResolve(t, r, Line{Vendor: " SYSCO ", VendorSKU: "AB-12", Description: "Whole Milk"})
	if res.Item.ID != 20 || res.Method != MethodStored || res.Score != 1 || res.Created || len(res.NewMappings) != 0 {
		t.Errorf("got %+v, want item 20 by a stored mapping, no new mappings", res)
	}
	// SKUs are case-sensitive: "ab-12" is another SKU, so the description
	// mapping applies.
	res = mustResolve(t, r, Line{Vendor: "Sysco", VendorSKU: "ab-12", Description: "Whole Milk"})
	if res.Item.ID != 40 || res.Method != MethodStored {
		t.Errorf("lower-case SKU: got item %d by %s, want 40 by the description mapping", res.Item.ID, res.Method)
	}
}

func TestResolveStoredDescription(t *testing.T) {
	r := NewResolver(testItems(), slices.Values([]StoredMapping{
		{Vendor: "us foods", KeyKind: KeyDescription, Key: Normalize("MILK WHL GAL"), ItemID: 30, Method: MethodManual},
	}), Options{FuzzyThreshold: DefaultFuzzyThreshold})

	res := mustResolve(t, r, Line{Vendor: "US Foods", VendorSKU: "999", Description: "Milk Whl Gal"})
	if res.Item.ID != 30 || res.Method != MethodStored || len(res.NewMappings) != 0 {
		t.Errorf("got %+v, want item 30 by the stored description mapping", res)
	}
	// Mappings belong to their vendor.
	res = mustResolve(t, r, Line{Vendor: "Sysco", Description: "Milk Whl Gal"})
	if res.Method == MethodStored {
		t.Errorf("another vendor's line resolved by US Foods' mapping: %+v", res)
	}
}

func TestResolveIgnoresMappingsToUnknownItems(t *testing.T) {
	r := NewResolver(testItems(), slices.Values([]StoredMapping{
		{Vendor: "sysco", KeyKind: KeySKU, Key: "1", ItemID: 999, Method: MethodManual},
		{Vendor: "sysco", KeyKind: KeyDescription, Key: Normalize("whole milk"), ItemID: 999, Method: MethodManual},
	}), Options{})
	res := mustResolve(t, r, Line{Vendor: "Sysco", VendorSKU: "1", Description: "whole milk"})
	if res.Item.ID != 30 || res.Method != MethodExact {
		t.Errorf("got item %d by %s, want 30 by exact match", res.Item.ID, res.Method)
	}
}

func TestResolveExact(t *testing.T) {
	items := append(testItems(),
		Item{ID: 7, Name: "MILK, WHOLE"}, // normalizes like item 30, lower id
	)
	r := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	res := mustResolve(t, r, Line{Vendor: "Sysco", VendorSKU: "55", Description: "Milk Whole 4/1 GAL"})
	if res.Item.ID != 7 || res.Method != MethodExact || res.Score != 1 || res.Created {
		t.Fatalf("got %+v, want item 7 (lowest id of two exact matches)", res)
	}
	want := []Mapping{
		{Vendor: "sysco", KeyKind: KeySKU, Key: "55", Item: res.Item, Method: MethodExact, Score: 1},
		{Vendor: "sysco", KeyKind: KeyDescription, Key: "milk whole @15141.647136ml @3785.411784ml", Item: res.Item, Method: MethodExact, Score: 1},
	}
	if !reflect.DeepEqual(res.NewMappings, want) {
		t.Errorf("NewMappings = %+v, want %+v", res.NewMappings, want)
	}
	// The next occurrence resolves by the mapping just made.
	again := mustResolve(t, r, Line{Vendor: "SYSCO", VendorSKU: "55", Description: "something else"})
	if again.Item != res.Item || again.Method != MethodStored || len(again.NewMappings) != 0 {
		t.Errorf("second occurrence: got %+v, want the same item by a stored mapping", again)
	}
}

func TestResolveFuzzy(t *testing.T) {
	items := testItems()
	line := Line{Vendor: "Sysco", Description: "chiken breast bonless skinless"}
	sim := Similarity(Normalize(line.Description), Normalize(items[1].Name))
	if sim <= 0.5 || sim >= 1 {
		t.Fatalf("test premise: similarity %v", sim)
	}

	r := NewResolver(items, nil, Options{FuzzyThreshold: sim})
	res := mustResolve(t, r, line)
	if res.Item.ID != 10 || res.Method != MethodFuzzy || res.Score != sim || res.Created {
		t.Errorf("at threshold %v: got %+v, want item 10 by fuzzy match with score %v", sim, res, sim)
	}
	if len(res.NewMappings) != 1 || res.NewMappings[0].Method != MethodFuzzy || res.NewMappings[0].Score != sim {
		t.Errorf("NewMappings = %+v, want one fuzzy description mapping", res.NewMappings)
	}

	// Just above the similarity, or with fuzzy matching off, the line
	// creates an item.
	for _, th := range []float64{sim + 1e-9, 0} {
		r := NewResolver(items, nil, Options{FuzzyThreshold: th})
		if res := mustResolve(t, r, line); res.Method != MethodCreated {
			t.Errorf("at threshold %v: got %s, want created", th, res.Method)
		}
	}
}

func TestResolveFuzzyTieGoesToLowestID(t *testing.T) {
	// "ab cd" and "ab ce" are equally similar to "ab c"; the lower id wins
	// whatever the input order.
	for _, items := range [][]Item{
		{{ID: 5, Name: "ab ce"}, {ID: 3, Name: "ab cd"}},
		{{ID: 3, Name: "ab cd"}, {ID: 5, Name: "ab ce"}},
	} {
		r := NewResolver(items, nil, Options{FuzzyThreshold: 0.1})
		res := mustResolve(t, r, Line{Vendor: "v", Description: "ab c"})
		if res.Method != MethodFuzzy || res.Item.ID != 3 {
			t.Errorf("items %v: got item %d by %s, want 3 by fuzzy", items, res.Item.ID, res.Method)
		}
	}
}

func TestResolveCreatesAndLaterLinesSeeIt(t *testing.T) {
	r := NewResolver(testItems(), nil, Options{FuzzyThreshold: 0.5})
	l := Line{Vendor: "Baldor", VendorSKU: "X1", Description: "Duck Breast Boneless", Unit: "ea"}
	res := mustResolve(t, r, l)
	wantItem := Item{Name: "Duck Breast Boneless", Normalized: Normalize("Duck Breast Boneless"), Unit: "ea"}
	if res.Method != MethodCreated || !res.Created || res.Score != 1 || *res.Item != wantItem {
		t.Fatalf("got %+v (item %+v), want a created %+v", res, *res.Item, wantItem)
	}
	if len(res.NewMappings) != 2 || res.NewMappings[0].KeyKind != KeySKU || res.NewMappings[1].KeyKind != KeyDescription {
		t.Errorf("NewMappings = %+v, want SKU then description", res.NewMappings)
	}
	created := res.Item

	// The importer inserts the item and sets its id; resolution goes on.
	created.ID = 1

	// Same SKU, same vendor: stored mapping.
	if res := mustResolve(t, r, Line{Vendor: "BALDOR", VendorSKU: "X1", Description: "duck"}); res.Item != created || res.Method != MethodStored {
		t.Errorf("same SKU: got %+v, want the created item by a stored mapping", res)
	}
	// Another vendor, same description: exact match to the created item.
	if res := mustResolve(t, r, Line{Vendor: "Sysco", Description: "DUCK BREAST BNLS"}); res.Item != created || res.Method != MethodExact {
		t.Errorf("other vendor: got %+v, want the created item by exact match", res)
	}
	// A misspelling: fuzzy match to the created item.
	if res := mustResolve(t, r, Line{Vendor: "Sysco", Description: "Duck Brest Boneless"}); res.Item != created || res.Method != MethodFuzzy {
		t.Errorf("misspelt: got %+v, want the created item by fuzzy match", res)
	}
}

// "aa cc" is equally similar (1/3) to "aa bb" and to "cc dd", which share
// no trigram, so neither of those matches the other.
func TestResolveCreatedItemsLoseTiesToStoredOnes(t *testing.T) {
	r := NewResolver([]Item{{ID: 50, Name: "aa bb"}}, nil, Options{FuzzyThreshold: 0.3})
	created := mustResolve(t, r, Line{Vendor: "v", Description: "cc dd"})
	if !created.Created {
		t.Fatalf("setup: got %s", created.Method)
	}
	if res := mustResolve(t, r, Line{Vendor: "v", Description: "aa cc"}); res.Method != MethodFuzzy || res.Item.ID != 50 {
		t.Errorf("tie went to %+v by %s, want the stored item 50", *res.Item, res.Method)
	}
	// Still so once the importer gave the new item a lower id.
	created.Item.ID = 1
	if res := mustResolve(t, r, Line{Vendor: "w", Description: "aa cc"}); res.Item.ID != 50 {
		t.Errorf("after the new item got id 1, the tie went to %+v, want item 50", *res.Item)
	}
}

func TestResolveCreatedTiesGoToTheEarliest(t *testing.T) {
	r := NewResolver(nil, nil, Options{FuzzyThreshold: 0.3})
	a := mustResolve(t, r, Line{Vendor: "v", Description: "cc dd"})
	b := mustResolve(t, r, Line{Vendor: "v", Description: "aa bb"})
	if !a.Created || !b.Created {
		t.Fatalf("setup: got %s, %s", a.Method, b.Method)
	}
	if res := mustResolve(t, r, Line{Vendor: "v", Description: "aa cc"}); res.Item != a.Item {
		t.Errorf("tie between created items went to %q, want the earlier %q", res.Item.Name, a.Item.Name)
	}
}

// Resolvers that share Options.NewItems create that many items between
// them, and no more; lines of the items they created still resolve.
func TestResolveNewItemsBound(t *testing.T) {
	left := int64(2)
	opts := Options{FuzzyThreshold: DefaultFuzzyThreshold, NewItems: &left}
	r1, r2 := NewResolver(testItems(), nil, opts), NewResolver(nil, nil, opts)
	first := mustResolve(t, r1, Line{Vendor: "Sysco", Description: "Lobster Tails"})
	if !first.Created {
		t.Fatalf("first new line: got %+v, want a created item", first)
	}
	if res := mustResolve(t, r2, Line{Vendor: "Sysco", Description: "Quail Eggs"}); !res.Created {
		t.Fatalf("second new line, in another resolver: got %+v, want a created item", res)
	}
	for _, r := range []*Resolver{r1, r2} {
		if _, err := r.Resolve(Line{Vendor: "Sysco", Description: "Saffron Threads"}); !errors.Is(err, ErrTooManyNew) {
			t.Fatalf("third new line: err = %v, want ErrTooManyNew", err)
		}
	}
	if left != 0 {
		t.Errorf("%d items left to create, want 0", left)
	}
	if res := mustResolve(t, r1, Line{Vendor: "Sysco", Description: "Lobster Tails"}); res.Item != first.Item {
		t.Errorf("a line of an item created before the bound: got %+v, want %q", res, first.Item.Name)
	}
	if res := mustResolve(t, r1, Line{Vendor: "Sysco", Description: "Roma Tomatoes"}); res.Item.ID != 40 {
		t.Errorf("exact match past the bound: got %+v", res)
	}
}

func TestResolveNoCreate(t *testing.T) {
	r := NewResolver(testItems(), nil, Options{FuzzyThreshold: DefaultFuzzyThreshold, NoCreate: true})
	_, err := r.Resolve(Line{Vendor: "Sysco", VendorSKU: "9", Description: "Lobster Tails"})
	if !errors.Is(err, ErrUnresolved) {
		t.Fatalf("err = %v, want ErrUnresolved", err)
	}
	// Nothing was remembered: the line fails again, and matches still work.
	if _, err := r.Resolve(Line{Vendor: "Sysco", VendorSKU: "9", Description: "Lobster Tails"}); !errors.Is(err, ErrUnresolved) {
		t.Errorf("second time: err = %v, want ErrUnresolved", err)
	}
	if res := mustResolve(t, r, Line{Vendor: "Sysco", Description: "Roma Tomatoes"}); res.Item.ID != 40 {
		t.Errorf("exact match with NoCreate: got %+v", res)
	}
}

func TestNewResolverCopiesItems(t *testing.T) {
	items := testItems()
	r := NewResolver(items, nil, Options{})
	items[0].Name, items[0].ID = "changed", 99
	res := mustResolve(t, r, Line{Vendor: "v", Description: "whole milk"})
	if res.Item.ID != 30 || res.Item.Name != "Whole Milk 1 gal" {
		t.Errorf("resolver saw the caller's change: %+v", *res.Item)
	}
	if res.Item.Normalized != "milk whole" {
		t.Errorf("Normalized was not filled in: %q", res.Item.Normalized)
	}
}

// The same input and the same state resolve identically, whatever the order
// in which the database returned items and mappings.
func TestResolveIsDeterministic(t *testing.T) {
	items := loadCatalogue(t)
	lines := loadLines(t)
	run := func(items []Item) []string {
		r := NewResolver(items, nil, Options{FuzzyThreshold: 0.5})
		var out []string
		for _, l := range lines {
			res := mustResolve(t, r, l.Line)
			out = append(out, string(res.Method)+" "+res.Item.Name)
		}
		return out
	}
	want := run(items)
	reversed := make([]Item, len(items))
	for i, it := range items {
		reversed[len(items)-1-i] = it
	}
	for i := range 3 {
		in := items
		if i == 2 {
			in = reversed
		}
		if got := run(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d differs from the first", i)
		}
	}
}

// The importer sets the IDs of created items while the resolver goes on with
// the next lines; run with -race, this fails if Resolve reads those IDs.
func TestResolveLetsTheImporterSetIDsConcurrently(t *testing.T) {
	r := NewResolver(testItems(), nil, Options{FuzzyThreshold: 0.5})
	created := make(chan *Item, 16)
	done := make(chan struct{})
	go func() {
		id := int64(1000)
		for it := range created {
			it.ID = id
			id++
		}
		close(done)
	}()
	for i := range 200 {
		l := Line{Vendor: "v", VendorSKU: fmt.Sprint(i % 50), Description: fmt.Sprintf("item %c%c", 'a'+i%7, 'a'+i%11)}
		res := mustResolve(t, r, l)
		if res.Created {
			created <- res.Item
		}
	}
	close(created)
	<-done
}
