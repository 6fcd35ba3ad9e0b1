// Package testgen writes generated invoice files for tests and benchmarks,
// and knows what each should import to.
package testgen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// File is a generated CSV input and what it should import to.
type File struct {
	Path   string
	Lines  []int          // start line of every record
	Bad    map[int]string // start line → the field expected in _error
	Good   int
	SumQty map[string]decimal.Decimal // item name → expected quantity sum
}

// Spec says what to generate.
type Spec struct {
	Rows int
	// BadEvery makes every BadEvery-th record break a rule (cycling through
	// the rules); 0 means none.
	BadEvery int
	// Variant changes invoice numbers and quantities, so that files of the
	// same size have different contents (and source keys).
	Variant int
	// Edit, when set, may change a valid record's fields (in file order:
	// invoice_number, invoice_date, vendor, vendor_sku, description,
	// quantity, unit, unit_price). It must keep the record valid and leave
	// the description alone.
	Edit func(i int, fields []string)
}

// CSV writes a file of spec.Rows records to dir/name. Every 13th record has
// a note spanning two lines (in a column no field reads: a value of a field
// may hold no line break), so that record lines differ from record numbers.
func CSV(t testing.TB, dir, name string, spec Spec) *File {
	t.Helper()
	n := spec.Rows
	g := &File{Path: filepath.Join(dir, name), Bad: map[int]string{}, SumQty: map[string]decimal.Decimal{}}
	// Lines with the same SKU resolve to one item, named after the first
	// valid line's description.
	names := map[int]string{}
	f, err := os.Create(g.Path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price,notes")
	line := 2
	breaks := []struct {
		field string
		edit  func(fields []string)
	}{
		{"invoice_date", func(f []string) { f[1] = "2026-02-30" }},
		{"quantity", func(f []string) { f[5] = "1.2345" }},
		{"quantity", func(f []string) { f[5] = "0" }},
		{"unit_price", func(f []string) { f[7] = "-1" }},
		{"description", func(f []string) { f[4] = "" }},
		{"vendor", func(f []string) { f[2] = "" }},
		{"invoice_number", func(f []string) { f[0] = fmt.Sprintf("%070d", 1) }},
		{"fields", func(f []string) { f[7] += ",extra" }},
	}
	for i := 0; i < n; i++ {
		item := i % 250
		desc := productName(item)
		qty := decimal.New(int64((i+spec.Variant)%17+1), -int32(i%4)) // 0 to 3 fractional digits
		if i%11 == 0 {
			qty = qty.Neg()
		}
		fields := []string{
			fmt.Sprintf("INV-%d-%d", spec.Variant, i/20), "2026-05-04", fmt.Sprintf("Vendor %d", item%7),
			fmt.Sprintf("SKU-%d", item), desc, qty.String(), "ea", "1.25", "",
		}
		if i%13 == 0 { // a note spanning two lines
			fields[8] = "\"picked by\nhand\""
		}
		if spec.Edit != nil {
			spec.Edit(i, fields)
			qty = decimal.RequireFromString(fields[5])
		}
		if spec.BadEvery > 0 && i%spec.BadEvery == spec.BadEvery/2 {
			b := breaks[(i/spec.BadEvery)%len(breaks)]
			b.edit(fields)
			g.Bad[line] = b.field
		} else {
			g.Good++
			if _, ok := names[item]; !ok {
				names[item] = desc
			}
			g.SumQty[names[item]] = g.SumQty[names[item]].Add(qty)
		}
		g.Lines = append(g.Lines, line)
		for j, v := range fields {
			if j > 0 {
				_ = w.WriteByte(',')
			}
			_, _ = w.WriteString(v)
			line += strings.Count(v, "\n")
		}
		_ = w.WriteByte('\n')
		line++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return g
}

var (
	adjectives = []string{"Smoked", "Fresh", "Frozen", "Organic", "Sweet", "Roasted", "Pickled", "Dried", "Crushed", "Whole"}
	nouns      = []string{"Apricots", "Beets", "Cabbage", "Dill", "Eggplant", "Figs", "Ginger", "Horseradish", "Jalapenos",
		"Kale", "Lentils", "Mushrooms", "Nutmeg", "Okra", "Parsnips", "Quinoa", "Radishes", "Spinach", "Turnips",
		"Walnuts", "Yams", "Zucchini", "Cashews", "Leeks", "Barley"}
)

// productName names 250 distinct products, far enough apart that no fuzzy
// match joins two of them.
func productName(i int) string {
	return adjectives[i%len(adjectives)] + " " + nouns[i/len(adjectives)%len(nouns)]
}
