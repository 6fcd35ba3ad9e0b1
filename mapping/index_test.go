package mapping

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// syntheticCatalogue returns n realistic item names, the same for the same n
// and seed: a brand, one or two descriptors, a product, sometimes a form and
// a pack size ("Kelvaro Smoked Mild Turkey Breast Slices 4/10 lb"). Brands are
// pronounceable made-up words, one per 25 items or so, as large catalogues
// carry many brands; that is what makes their trigrams rarer than those of
// the shared product vocabulary.
func syntheticCatalogue(n int, seed uint64) []Item {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	onsets := []string{"b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l", "m",
		"n", "p", "pr", "qu", "r", "s", "sh", "sl", "st", "t", "tr", "v", "w", "z"}
	vowels := []string{"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"}
	codas := []string{"", "", "", "n", "r", "l", "s", "x", "m", "nd", "st", "rk"}
	brands := make([]string, 0, max(20, n/25))
	seen := make(map[string]bool)
	for len(brands) < cap(brands) {
		var b strings.Builder
		for range 2 + rng.IntN(2) {
			b.WriteString(onsets[rng.IntN(len(onsets))])
			b.WriteString(vowels[rng.IntN(len(vowels))])
			b.WriteString(codas[rng.IntN(len(codas))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			brands = append(brands, strings.ToUpper(w[:1])+w[1:])
		}
	}
	descriptors := strings.Split("Organic,Premium,Select,Fancy,Choice,Grade A,Natural,Classic,Original,Extra,"+
		"Light,Spicy,Mild,Hot,Sweet,Smoked,Roasted,Toasted,Frozen,Diced,Sliced,Shredded,Chopped,Whole,"+
		"Boneless,Skinless,Breaded,Battered,Low Sodium,Reduced Fat,Unsweetened,Seedless,Peeled,Crushed,"+
		"Ground,Grated,Crumbled,Pitted,Marinated,Glazed,Honey,Garlic,Herb,Lemon,Cajun,Italian,Mexican,"+
		"Thai,Southern,Country,Golden,Red,Green,Yellow,White,Black,Jumbo,Baby,Thick Cut,Thin Sliced", ",")
	products := strings.Split("Chicken Breast,Chicken Thighs,Chicken Wings,Ground Beef,Beef Brisket,"+
		"Pork Loin,Bacon,Ham,Turkey Breast,Salmon Fillet,Cod Fillet,Shrimp,Scallops,Tomatoes,Onions,"+
		"Potatoes,Carrots,Lettuce,Spinach,Mushrooms,Bell Peppers,Broccoli,Cauliflower,Green Beans,Corn,"+
		"Peas,Apples,Bananas,Oranges,Lemons,Limes,Strawberries,Blueberries,Grapes,Milk,Cream,Butter,"+
		"Cheddar Cheese,Mozzarella,Parmesan,Yogurt,Eggs,Flour,Sugar,Rice,Pasta,Spaghetti,Penne,Bread,"+
		"Buns,Tortillas,Bagels,Croissants,Olive Oil,Canola Oil,Vinegar,Mayonnaise,Ketchup,Mustard,Salsa,"+
		"Soy Sauce,Hot Sauce,Barbecue Sauce,Marinara Sauce,Ranch Dressing,Maple Syrup,Coffee,Tea,"+
		"Orange Juice,Apple Juice,Sparkling Water,Ice Cream,French Fries,Tater Tots,Onion Rings,Pie Shells,"+
		"Cookies,Brownies,Muffins,Pancake Mix,Chocolate Chips,Almonds,Walnuts,Peanut Butter,Jelly,Pickles,"+
		"Olives,Black Beans,Chickpeas,Lentils,Quinoa,Oats,Granola,Crackers,Tortilla Chips,Pretzels,"+
		"Napkins,Gloves,Aluminum Foil,Hot Cups,Cup Lids,Straws,Containers,Detergent,Sanitizer,Bleach", ",")
	forms := strings.Split(",,,,Fillets,Patties,Links,Strips,Chunks,Slices,Bites,Florets,Halves,Pieces,"+
		"Wedges,Cubes,Portions,Tenders,Nuggets,Sticks,Rings", ",")
	packs := strings.Split(",4/10 lb,6/#10,12/32 oz,25 lb,1 gal,3 L,500 ct,24 ct,12x500ml,2/5 lb,10 lb", ",")

	items := make([]Item, n)
	for i := range items {
		words := []string{brands[rng.IntN(len(brands))], descriptors[rng.IntN(len(descriptors))]}
		if rng.IntN(2) == 0 {
			words = append(words, descriptors[rng.IntN(len(descriptors))])
		}
		words = append(words, products[rng.IntN(len(products))], forms[rng.IntN(len(forms))], packs[rng.IntN(len(packs))])
		name := strings.Join(strings.Fields(strings.Join(words, " ")), " ")
		items[i] = Item{ID: int64(1000 + i), Name: name, Normalized: Normalize(name)}
	}
	return items
}

// misspell makes one typo (a dropped, doubled, swapped or replaced letter) in
// each of up to two words of at least four letters.
func misspell(rng *rand.Rand, name string) string {
	words := strings.Fields(name)
	for range 2 {
		i := rng.IntN(len(words))
		w := []rune(words[i])
		if len(w) < 4 {
			continue
		}
		j := 1 + rng.IntN(len(w)-2)
		switch rng.IntN(4) {
		case 0:
			w = append(w[:j:j], w[j+1:]...)
		case 1:
			w = append(w[:j+1:j+1], w[j:]...)
		case 2:
			w[j], w[j+1] = w[j+1], w[j]
		default:
			w[j] = 'a' + rune(rng.IntN(26))
		}
		words[i] = string(w)
	}
	return strings.Join(words, " ")
}

// misspeltQueries returns the normalized misspellings of k random item names.
func misspeltQueries(items []Item, k int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 42))
	qs := make([]string, k)
	for i := range qs {
		qs[i] = Normalize(misspell(rng, items[rng.IntN(len(items))].Name))
	}
	return qs
}

// bruteBest is the definition the index must agree with: the highest
// similarity at or above the threshold, ties to the lowest position. sims
// holds the similarity of the query to every item, by position.
func bruteBest(sims []float64, threshold float64) (int, float64, bool) {
	best, bestSim := -1, 0.0
	for p, sim := range sims {
		if sim >= threshold && (best < 0 || sim > bestSim) {
			best, bestSim = p, sim
		}
	}
	if best < 0 {
		return 0, 0, false
	}
	return best, bestSim, true
}

func TestIndexMatchesBruteForce(t *testing.T) {
	items := syntheticCatalogue(1500, 7)
	items = append(items, loadCatalogue(t)...)
	var sets [][]trigram
	for _, it := range items {
		sets = append(sets, trigrams(it.Normalized))
	}
	sets = append(sets, trigrams(""), trigrams("x"), trigrams("ab cd"), trigrams("ab ce"))
	queries := misspeltQueries(items, 200, 3)
	for _, l := range loadLines(t) {
		queries = append(queries, Normalize(l.Description))
	}
	queries = append(queries, "", "x", "ab c", "qqqq zzzz", "日本語")
	qsets := make([][]trigram, len(queries))
	sims := make([][]float64, len(queries))
	for i, q := range queries {
		qsets[i] = trigrams(q)
		for _, s := range sets {
			sims[i] = append(sims[i], jaccard(overlap(qsets[i], s), len(qsets[i]), len(s)))
		}
	}

	for _, th := range []float64{0.05, 0.3, 0.5, 0.6, DefaultFuzzyThreshold, 0.95, 1} {
		// Index the first half up front, or nothing, and add the rest one
		// by one, as the resolver does with the items it creates: from
		// nothing, the index is built again on the way (minRebuild).
		for _, first := range []int{len(sets) / 2, 0} {
			ix := newIndex(slices.Clone(sets[:first]), th)
			for _, s := range sets[first:] {
				ix.add(s)
			}
			if first == 0 && ix.built < minRebuild {
				t.Fatalf("%d items added to an empty index, and it was never built again", len(sets))
			}
			for i, q := range queries {
				wp, ws, wok := bruteBest(sims[i], th)
				gp, gs, gok := ix.best(qsets[i], nil)
				if gp != wp || gs != ws || gok != wok {
					t.Fatalf("threshold %v, %d items indexed first, query %q: index gives (%d, %v, %v), brute force (%d, %v, %v)",
						th, first, q, gp, gs, gok, wp, ws, wok)
				}
			}
		}
	}
}

// meanComparisons is the mean number of similarity computations per fuzzy
// look-up of misspelt names of items.
func meanComparisons(items []Item, threshold float64) float64 {
	r := NewResolver(items, nil, Options{FuzzyThreshold: threshold})
	queries := misspeltQueries(items, 200, 2)
	total := 0
	for _, q := range queries {
		r.fuzzyMatch(described{key: q, traits: &traits{}}, nil)
		total += r.fuzzy.comparisons
	}
	return float64(total) / float64(len(queries))
}

// A fuzzy look-up must cost far less than a scan of the catalogue, and its
// cost must grow more slowly than the catalogue. Counting similarity
// computations rather than timing keeps the test deterministic.
func TestFuzzyLookupIsSublinear(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a catalogue of 100000 items")
	}
	items10k, items100k := syntheticCatalogue(10_000, 1), syntheticCatalogue(100_000, 1)
	for _, tc := range []struct {
		threshold float64
		growth    float64 // most comparisons may grow from 10k to 100k items
	}{
		{DefaultFuzzyThreshold, 4},
		{0.5, 8}, // a low threshold keeps the query prefix long
	} {
		small, large := meanComparisons(items10k, tc.threshold), meanComparisons(items100k, tc.threshold)
		t.Logf("threshold %.2f: %.1f comparisons per look-up at 10k items (%.3f%%), %.1f at 100k (%.3f%%)",
			tc.threshold, small, small/100, large, large/1000)
		if large > 100_000*0.01 {
			t.Errorf("threshold %.2f: %.0f comparisons per look-up at 100k items, want under 1%% of the catalogue",
				tc.threshold, large)
		}
		if large > tc.growth*small {
			t.Errorf("threshold %.2f: comparisons grew from %.1f to %.1f for 10x the items, want at most %gx",
				tc.threshold, small, large, tc.growth)
		}
	}
}

// A catalogue that a run creates from nothing (a first import of a large
// file of new items) must be as cheap to look up as one loaded whole. An
// index that ranked trigrams only when it was built had no ranks for the
// items it was given later, and indexed most of them under "  a"-like
// trigrams: each look-up then read most of the catalogue's postings.
func TestFuzzyLookupOfACatalogueGrownFromNothing(t *testing.T) {
	items := syntheticCatalogue(60_000, 3)
	whole := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	grown := newIndex(nil, DefaultFuzzyThreshold)
	for _, it := range whole.items {
		grown.add(trigrams(baseKey(it.Normalized)))
	}
	queries := misspeltQueries(items, 300, 5)
	var wholeVisited, grownVisited int
	for _, q := range queries {
		qs := trigrams(baseKey(q))
		wp, ws, wok := whole.fuzzy.best(qs, nil)
		gp, gs, gok := grown.best(qs, nil)
		if gp != wp || gs != ws || gok != wok {
			t.Fatalf("query %q: the grown index gives (%d, %v, %v), the whole one (%d, %v, %v)", q, gp, gs, gok, wp, ws, wok)
		}
		wholeVisited += whole.fuzzy.visited
		grownVisited += grown.visited
	}
	perWhole, perGrown := float64(wholeVisited)/float64(len(queries)), float64(grownVisited)/float64(len(queries))
	t.Logf("postings read per look-up in %d items: %.0f loaded whole, %.0f grown from nothing", len(items), perWhole, perGrown)
	if perGrown > 2*perWhole+100 {
		t.Errorf("a look-up in a catalogue grown from nothing reads %.0f postings, one loaded whole %.0f: want at most about twice",
			perGrown, perWhole)
	}
}

func BenchmarkFuzzyLookup(b *testing.B) {
	for _, n := range []int{1000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			items := syntheticCatalogue(n, 1)
			r := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
			queries := misspeltQueries(items, 256, 2)
			comparisons, i := 0, 0
			for b.Loop() {
				r.fuzzyMatch(described{key: queries[i%len(queries)], traits: &traits{}}, nil)
				comparisons += r.fuzzy.comparisons
				i++
			}
			b.ReportMetric(float64(comparisons)/float64(i), "comparisons/op")
		})
	}
}

// The index of a large catalogue stays small: every item is in memory for
// the whole run, and a catalogue of 100,000 items took a run past 150 MiB
// when each item's trigrams were a slice of their own, 8 bytes each (372
// bytes an item in all, here). Now they are 4-byte ids in one array.
func TestIndexMemoryPerItem(t *testing.T) {
	items := syntheticCatalogue(50_000, 1)
	r := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
	live := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	with := live()
	r.fuzzy = nil
	without := live()
	perItem := float64(with-without) / float64(len(items))
	t.Logf("the index of %d items takes %.0f bytes an item", len(items), perItem)
	if perItem > 250 {
		t.Errorf("the index takes %.0f bytes an item, want at most 250", perItem)
	}
	runtime.KeepAlive(r)
}
