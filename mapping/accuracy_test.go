package mapping

import (
	"encoding/csv"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// The labelled data: a supplier catalogue and invoice lines, each with the
// id of the item it truly is, or no id when its item is not in the catalogue
// (so that any match is wrong). Many lines are look-alikes whose right answer
// is a sibling of a similar item (thigh vs breast) or nothing (skim milk when
// the catalogue has only whole and 2%).
const labelledDir = "../testdata/mapping"

var showMisses = flag.Bool("misses", false, "TestAccuracy: log every labelled line resolved wrongly at the default threshold")

type labelledLine struct {
	Line
	row      int   // CSV line, for messages
	expected int64 // 0: not in the catalogue
}

// loadCatalogue reads catalogue.csv as the importer would load items: with
// their normalized names computed.
func loadCatalogue(t testing.TB) []Item {
	t.Helper()
	var items []Item
	for _, rec := range readCSV(t, "catalogue.csv", []string{"id", "name"}) {
		id, err := strconv.ParseInt(rec[0], 10, 64)
		if err != nil {
			t.Fatalf("catalogue.csv: id %q: %v", rec[0], err)
		}
		items = append(items, Item{ID: id, Name: rec[1], Normalized: Normalize(rec[1])})
	}
	return items
}

func loadLines(t testing.TB) []labelledLine {
	return loadLabelled(t, "lines.csv")
}

func loadLabelled(t testing.TB, name string) []labelledLine {
	t.Helper()
	var lines []labelledLine
	for i, rec := range readCSV(t, name, []string{"vendor", "vendor_sku", "description", "expected_item_id"}) {
		l := labelledLine{Line: Line{Vendor: rec[0], VendorSKU: rec[1], Description: rec[2]}, row: i + 2}
		if rec[3] != "" {
			id, err := strconv.ParseInt(rec[3], 10, 64)
			if err != nil {
				t.Fatalf("%s:%d: expected_item_id %q: %v", name, l.row, rec[3], err)
			}
			l.expected = id
		}
		lines = append(lines, l)
	}
	return lines
}

func readCSV(t testing.TB, name string, header []string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(labelledDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("%s: header must be %q", name, header)
	}
	return recs[1:]
}

func TestLabelledDataIsConsistent(t *testing.T) {
	items := loadCatalogue(t)
	lines := loadLines(t)
	if len(items) < 200 || len(lines) < 300 {
		t.Fatalf("labelled data too small: %d items, %d lines", len(items), len(lines))
	}
	ids := make(map[int64]bool)
	byNorm := make(map[string]string)
	for _, it := range items {
		if ids[it.ID] {
			t.Errorf("catalogue: duplicate id %d", it.ID)
		}
		ids[it.ID] = true
		// The database keeps normalized names unique per account, so a
		// realistic catalogue cannot have two items that normalize alike.
		if other, dup := byNorm[it.Normalized]; dup {
			t.Errorf("catalogue: %q and %q both normalize to %q", other, it.Name, it.Normalized)
		}
		byNorm[it.Normalized] = it.Name
	}
	none := 0
	for _, l := range lines {
		if l.expected == 0 {
			none++
		} else if !ids[l.expected] {
			t.Errorf("lines.csv:%d: expected item %d is not in the catalogue", l.row, l.expected)
		}
	}
	t.Logf("%d items, %d lines, %d of them with no item in the catalogue", len(items), len(lines), none)
}

// outcome is how a fresh resolver at the lowest swept threshold resolved a
// line. Fuzzy matching returns the most similar item whatever the threshold
// and then accepts it only if its score reaches the threshold, so the result
// at any higher threshold t follows from it: the same item if the method is
// exact or the score is >= t, else a created item.
type outcome struct {
	method Method
	itemID int64
	score  float64
}

func (o outcome) matchedAt(t float64) (int64, bool) {
	if o.method == MethodExact || o.method == MethodFuzzy && o.score >= t {
		return o.itemID, true
	}
	return 0, false
}

type confusion struct{ tp, fp, fn int }

func (c confusion) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c confusion) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// score classifies one line: a match to the expected item is a true
// positive, a match to any other item (or to any item when none is expected)
// a false positive, and no match when an item was expected a false negative.
func (c *confusion) score(expected, got int64, matched bool) {
	switch {
	case matched && got == expected:
		c.tp++
	case matched:
		c.fp++
	case expected != 0:
		c.fn++
	}
}

const (
	sweepLow  = 5  // thresholds are swept in hundredths, 0.05 ...
	sweepHigh = 95 // ... to 0.95
)

func TestAccuracy(t *testing.T) {
	items := loadCatalogue(t)
	lines := loadLines(t)

	outcomes := make([]outcome, len(lines))
	for i, l := range lines {
		r := NewResolver(items, nil, Options{FuzzyThreshold: float64(sweepLow) / 100})
		res, err := r.Resolve(l.Line)
		if err != nil {
			t.Fatalf("lines.csv:%d: %v", l.row, err)
		}
		outcomes[i] = outcome{method: res.Method, itemID: res.Item.ID, score: res.Score}
	}

	bestC := -1
	var best confusion
	t.Logf("threshold precision recall   TP  FP  FN")
	for c := sweepLow; c <= sweepHigh; c++ {
		th := float64(c) / 100
		var m confusion
		for i, l := range lines {
			got, ok := outcomes[i].matchedAt(th)
			m.score(l.expected, got, ok)
		}
		t.Logf("     %.2f    %.4f %.4f %4d %3d %3d", th, m.precision(), m.recall(), m.tp, m.fp, m.fn)
		if bestC < 0 || m.precision() > best.precision() ||
			m.precision() == best.precision() && m.recall() > best.recall() {
			bestC, best = c, m
		}
	}

	defC := int(math.Round(DefaultFuzzyThreshold * 100))
	if defC != bestC {
		t.Errorf("DefaultFuzzyThreshold = %.2f, but %.2f maximizes precision then recall on the labelled data (precision %.4f, recall %.4f): update the constant",
			DefaultFuzzyThreshold, float64(bestC)/100, best.precision(), best.recall())
	}
	if best.precision() < 0.99 {
		t.Errorf("best precision on the labelled data is %.4f, below the required 0.99", best.precision())
	}

	// Check the derivation above against fresh resolvers at the default, and
	// show what still goes wrong there.
	var def confusion
	for _, l := range lines {
		r := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
		res, err := r.Resolve(l.Line)
		if err != nil {
			t.Fatalf("lines.csv:%d: %v", l.row, err)
		}
		matched := res.Method == MethodExact || res.Method == MethodFuzzy
		def.score(l.expected, res.Item.ID, matched)
		switch {
		case matched && res.Item.ID != l.expected:
			t.Logf("false positive lines.csv:%d %q -> %d %q (%s %.3f), expected %d",
				l.row, l.Description, res.Item.ID, res.Item.Name, res.Method, res.Score, l.expected)
		case *showMisses && !matched && l.expected != 0:
			t.Logf("false negative lines.csv:%d %q (normalized %q), expected %d",
				l.row, l.Description, Normalize(l.Description), l.expected)
		}
	}
	var derived confusion
	for i, l := range lines {
		got, ok := outcomes[i].matchedAt(DefaultFuzzyThreshold)
		derived.score(l.expected, got, ok)
	}
	if def != derived {
		t.Errorf("fresh resolvers at %.2f give %+v, the sweep derived %+v", DefaultFuzzyThreshold, def, derived)
	}
	t.Logf("at DefaultFuzzyThreshold %.2f: precision %.4f, recall %.4f (TP %d, FP %d, FN %d)",
		DefaultFuzzyThreshold, def.precision(), def.recall(), def.tp, def.fp, def.fn)
}

// The held-out lines (heldout.csv) were written after the threshold was
// chosen, and never used to choose it: look-alikes by size, number and
// qualifier (SPEC §13), and the same items as suppliers write them. The
// contract asks for precision >= 0.995 and recall >= 0.95 there.
func TestHeldOut(t *testing.T) {
	items := loadCatalogue(t)
	ids := map[int64]bool{}
	for _, it := range items {
		ids[it.ID] = true
	}
	var c confusion
	for _, l := range loadLabelled(t, "heldout.csv") {
		if l.expected != 0 && !ids[l.expected] {
			t.Fatalf("heldout.csv:%d: expected item %d is not in the catalogue", l.row, l.expected)
		}
		r := NewResolver(items, nil, Options{FuzzyThreshold: DefaultFuzzyThreshold})
		res, err := r.Resolve(l.Line)
		if err != nil {
			t.Fatal(err)
		}
		matched := res.Method == MethodExact || res.Method == MethodFuzzy
		c.score(l.expected, res.Item.ID, matched)
		switch {
		case matched && res.Item.ID != l.expected:
			t.Logf("false positive heldout.csv:%d %q -> %d %q (%s %.3f), expected %d",
				l.row, l.Description, res.Item.ID, res.Item.Name, res.Method, res.Score, l.expected)
		case !matched && l.expected != 0:
			t.Logf("false negative heldout.csv:%d %q (normalized %q), expected %d", l.row, l.Description, Normalize(l.Description), l.expected)
		}
	}
	t.Logf("held out, at %.2f: precision %.4f, recall %.4f (TP %d, FP %d, FN %d)", DefaultFuzzyThreshold, c.precision(), c.recall(), c.tp, c.fp, c.fn)
	if c.precision() < 0.995 || c.recall() < 0.95 {
		t.Errorf("held out: precision %.4f (want >= 0.995), recall %.4f (want >= 0.95)", c.precision(), c.recall())
	}
}
