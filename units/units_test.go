package units

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"LB": "lb", "lbs": "lb", "Lb.": "lb", "#": "lb", " Pounds ": "lb",
		"GAL": "gal", "gallon": "gal", "CS": "cs", "Case": "cs", "cse": "cs",
		"EA": "ea", "each": "ea", "ct": "ea", "DZ": "dz", "doz": "dz", "dozen": "dz",
		"PT": "pt", "pint": "pt", "QT": "qt", "quart": "qt", "KG": "kg", "kilo": "kg",
		"L": "l", "ltr": "l", "litre": "l", "liter": "l", "fl  oz": "floz", "Fl. Oz": "floz",
		"": "", "Bunch": "bunch", "Flat Pack": "flat pack",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPacks(t *testing.T) {
	for _, c := range []struct {
		pack, description string
		want              string // "count×size unit; ..."
	}{
		{"4/1GAL", "", "4×1 gal"},
		{"1/25LB", "", "1×25 lb"},
		{"12/1PT", "", "12×1 pt"},
		{"36/1LB", "", "36×1 lb"},
		{"4/10LB", "", "4×10 lb"},
		{"6/#10", "", "6×1 ea"},
		{"1/200CT", "", "1×200 ea"},
		{"200CT", "", "1×200 ea"},
		{"2/5LB AVG", "", "2×5 lb"},
		{"40#", "", "1×40 lb"},
		{"12/32 fl oz", "", "12×32 floz"},
		{"1/2 bag", "", ""},                // a container is no size
		{"large", "", ""},                  // no size at all
		{"4/1GAL", "Roma 25lb", "4×1 gal"}, // the pack field wins
		{"", "Roma Tomatoes 25lb", "1×25 lb"},
		{"", "Chicken Breast 40# CS", "1×40 lb"},
		{"", "Whole Milk 4/1 gal", "4×1 gal"},
		{"", "Whole Milk 1 Gal", ""},                       // a bare volume is the product's size
		{"", "Cups 12 oz 1000ct", "1000×12 oz; 1×1000 ea"}, // 1000 pieces of 12 oz
		{"", "Steak Ribeye 12 oz 16 ct", "16×12 oz; 1×16 ea"},
		{"", "Potatoes Russet 50 lb 90 ct", "1×50 lb; 1×90 ea"}, // a case's weight: no 90 × 50 lb
		{"", "Cheese Sliced 160 ct 5 lb", "1×160 ea; 1×5 lb"},
		{"", "Tomato Paste 6/#10", "6×1 ea"},
		{"", "Peaches Sliced #10", ""},       // a can size alone is the product's
		{"", "Beans Refried 6 #10 cans", ""}, // no 6 lb
		{"", "Chicken 40# CS", "1×40 lb"},
		{"", "Baby Spinach 4x2.5 lb", "4×2.5 lb"},
		{"", "Ground Beef 80/20", ""},
		{"", "Extra Virgin Olive Oil 3L", ""},
		{"", "Lemons 115 ct", "1×115 ea"},
		{"", "Milk Chocolate 1/2 Gal", ""},
		{"", "Beef Patties 1/4 lb", ""},
		{"", "Salmon Fillet Skin On", ""},
		// Thousands separators and decimal commas.
		{"", "Roma Tomatoes 12,5 lb", "1×12.5 lb"},
		{"", "Napkins 1,000 ct", "1×1000 ea"},
		{"", "Sauce 6/1,5 kg", "6×1.5 kg"},
		{"", "Weizenmehl 1.000,5 kg", "1×1000.5 kg"},
		{"", "Cups 1.000.000 ct", "1×1000000 ea"},
		{"", "Lot 1.2.3 kg", ""}, // no number: not "3 kg"
		{"1/1,000 ct", "", "1×1000 ea"},
		{"4/2,5 KG", "", "4×2.5 kg"},
		{"1.2.3 kg", "", ""},
		{"", "Ground Beef 2 1/2 lb", ""}, // a mixed fraction is the product's size
		{"8/0,125 kg", "", "8×0.125 kg"},
		{"", "Potatoes 50-lb", "1×50 lb"},
		{"", "Tomatoes 1x2 lb", "1×2 lb"},                // a pack of one, no fraction
		{"", "Beef Patty 4 oz 10 lb", "1×4 oz; 1×10 lb"}, // in order: ForUnit picks
		// Beside a weight, a count range is a grade, no pack; else, and a
		// pack of counts, a pack.
		{"", "Shrimp 16/20 ct 5 lb", "1×5 lb"},
		{"", "Scallops Dry 10/20 ct 5 lb", "1×5 lb"},
		{"", "Bacon Sliced 18-22 ct 15 lb", "1×15 lb"},
		{"", "Shrimp U/10 21/25 ct", "21×25 ea"},
		{"", "Bun Brioche 4 in 8/12 ct", "8×12 ea"},
		{"", "Napkins 16/250 ct", "16×250 ea"},
		{"", "Cups 12/50 ct 2 lb", "12×50 ea; 1×2 lb"},
	} {
		var got []string
		for _, p := range Packs(c.pack, c.description) {
			got = append(got, p.Count.String()+"×"+p.Size.String()+" "+p.Unit)
		}
		if strings.Join(got, "; ") != c.want {
			t.Errorf("Packs(%q, %q) = %q, want %q", c.pack, c.description, strings.Join(got, "; "), c.want)
		}
	}
}

// The lines of UNITS.md's table, and more: each converts exactly.
func TestToBase(t *testing.T) {
	milk := Item{ID: 7, Name: "Whole Milk 1 Gal", Base: "gal"}
	for _, c := range []struct {
		q, unit, pack, description string
		it                         Item
		want                       string // "" = *ConvertError
	}{
		{"2", "CS", "1/25LB", "Roma Tomatoes 25lb", Item{Base: "lb"}, "50"},
		// An inner container or a count is one inner pack, a case all.
		{"6", "btl", "", "Chardonnay 12/750ml", Item{Base: "ml"}, "4500"},
		{"1", "cs", "", "Chardonnay 12/750ml", Item{Base: "ml"}, "9000"},
		{"6", "ea", "", "Coca Cola 24/12 oz", Item{Base: "oz"}, "72"},
		{"1", "dz", "", "Coca Cola 24/12 oz", Item{Base: "oz"}, "144"},
		{"3", "bag", "4/5LB", "Flour", Item{Base: "lb"}, "15"},
		{"2", "can", "6/#10", "Tomato Paste", Item{Base: "ea"}, "2"},
		{"3", "CS", "4/1GAL", "Whole Milk 1 Gal", milk, "12"},
		{"12", "gal", "", "Whole Milk", milk, "12"},
		{"8", "qt", "", "Canola Oil", Item{Base: "gal"}, "2"},
		{"5", "DZ", "", "Eggs Large", Item{Base: "ea"}, "60"},
		{"2", "bag", "", "Canola Oil", Item{Base: "gal"}, ""},
		{"3", "CS", "", "Whole Milk 1 Gal", milk, ""}, // how many gallons a case holds is unknown
		{"3", "CS", "", "Whole Milk 1 Gal", Item{Base: "gal", Units: map[string]decimal.Decimal{"cs": decimal.NewFromInt(4)}}, "12"},
		{"1.5", "", "", "Whole Milk", milk, "1.5"},           // no unit: the base unit
		{"2", "lbs", "", "Butter", Item{Base: "LB"}, "2"},    // spellings of one unit
		{"1", "kg", "", "Flour", Item{Base: "lb"}, "2.205"},  // 2.20462262... rounded
		{"10", "lb", "", "Flour", Item{Base: "kg"}, "4.536"}, // 4.5359237
		{"24", "oz", "", "Cheese", Item{Base: "lb"}, "1.5"},  // oz of a mass
		{"64", "oz", "", "Juice", Item{Base: "gal"}, "0.5"},  // oz of a liquid: fl oz
		{"3", "oz", "", "Cups 12 oz", Item{Base: "ea"}, ""},  // oz of a count: nothing
		{"2", "CS", "", "Cups 12 oz 1000ct", Item{Base: "ea"}, "2000"},
		{"1", "gal", "", "Milk", Item{Base: "lb"}, ""}, // volume to mass: nothing
		{"2", "CS", "2/5LB AVG", "Beef", Item{Base: "lb"}, "20"},
		{"1", "CS", "6/#10", "Tomato Paste", Item{Base: "ea"}, "6"},
		{"1", "pt", "", "Cream", Item{Base: "l"}, "0.473"},
		{"2", "cs", "", "Chicken Wings 12 ct.", Item{Base: "ea"}, "24"},                             // a size ending in a period
		{"2", "cs", "", "ct 12 Wings Chicken", Item{Name: "Chicken Wings 12 ct", Base: "ea"}, "24"}, // the item's own size
		{"3", "cs", "", "Milk Chocolate 1/2 Gal", Item{Base: "gal"}, ""},                            // a fraction sizes the product
		{"2", "cs", "", "Keg Stella 1/6 bbl", Item{Base: "gal"}, ""},
		// A pack size converts containers and counts, never a measure of
		// another kind than the item's.
		{"5", "lb", "", "Mushrooms", Item{Name: "Mushrooms 12x500ml", Base: "ml"}, ""},
		{"2", "gal", "6/5LB", "Honey", Item{Base: "lb"}, ""},
		{"3", "oz", "", "Cups 12 oz 1000ct", Item{Base: "ea"}, ""},
		{"1", "ea", "", "Flour 50 lb bag", Item{Base: "lb"}, "50"},
		// A case of pieces: the largest size of a kind is the case's, the
		// smallest a piece's, a COUNT/SIZE's inner an inner pack's.
		{"2", "cs", "", "Beef Patty 4 oz 10 lb", Item{Base: "lb"}, "20"},
		{"2", "cs", "", "Beef Patty 4 oz 10 lb", Item{Base: "oz"}, "320"},
		{"40", "ea", "", "Beef Patty 4 oz 10 lb", Item{Base: "lb"}, "10"},
		{"3", "bag", "", "Coffee Whole Bean 12 oz 6 lb", Item{Base: "lb"}, "2.25"},
		{"20", "ea", "", "Chicken Breast 6 oz 4/10 lb", Item{Base: "lb"}, "7.5"},
		{"1", "bag", "", "Chicken Breast 6 oz 4/10 lb", Item{Base: "lb"}, "10"},
		{"1", "cs", "", "Chicken Breast 6 oz 4/10 lb", Item{Base: "lb"}, "40"},
		{"2", "cs", "", "Shrimp 16/20 ct 5 lb", Item{Base: "lb"}, "10"},
		{"2", "cs", "", "Bacon Sliced 18-22 ct 15 lb", Item{Base: "lb"}, "30"},
		{"2", "cs", "", "Bun Brioche 4 in 8/12 ct", Item{Base: "ea"}, "192"},
		// A piece's weight, then how many pieces: a case is all of them.
		{"2", "cs", "", "Steak Ribeye 12 oz 16 ct", Item{Base: "oz"}, "384"},
		{"5", "ea", "", "Steak Ribeye 12 oz 16 ct", Item{Base: "oz"}, "60"},
		{"2", "cs", "", "Steak Ribeye 12 oz 16 ct", Item{Base: "ea"}, "32"},
		{"2", "cs", "", "Ketchup Packets 9 g 1000 ct", Item{Base: "g"}, "18000"},
		{"1", "cs", "", "Potatoes Russet 50 lb 90 ct", Item{Base: "lb"}, "50"},
		// An each of it is one of the 90, not the case; of a case with no
		// count, the case.
		{"10", "ea", "", "Potatoes Russet 50 lb 90 ct", Item{Base: "lb"}, ""},
		{"1", "dz", "", "Potatoes Russet 50 lb 90 ct", Item{Base: "lb"}, ""},
		{"10", "ea", "", "Potatoes Russet 50 lb 90 ct", Item{Base: "ea"}, "10"},
		{"10", "ea", "", "Potatoes Russet", Item{Base: "lb", NamePacks: Packs("", "Potatoes Russet 50 lb 90 ct")}, ""},
		{"8", "ea", "", "Beef Patty 4 oz 10 lb 40 ct", Item{Base: "lb"}, "2"},
		{"10", "ea", "", "Onions 50 lb (22.7 kg) 90 ct", Item{Base: "lb"}, ""},
		{"10", "ea", "", "Carrots 25 lb 25lb 90 ct", Item{Base: "lb"}, ""},
		{"1", "cs", "", "Beef Patty 4 oz 10 lb 40 ct", Item{Base: "lb"}, "10"},
		// Plurals and short forms of containers are the containers.
		{"6", "bottles", "12/750ml", "Wine Merlot", Item{Base: "ml"}, "4500"},
		{"6", "BTLS", "12/750ml", "Wine Merlot", Item{Base: "ml"}, "4500"},
		{"3", "bags", "", "Flour Bread 4/10 lb", Item{Base: "lb"}, "30"},
		{"2", "cans", "", "Tomato Paste 6/#10", Item{Base: "ea"}, "2"},
		{"1", "LBR", "", "Tomatoes Roma 25lb", Item{Base: "lb"}, "1"},
		// A unit it does not know is no case: an operator says what it is.
		{"1", "PK", "", "Tomatoes Roma 25lb", Item{Base: "lb"}, ""},
		{"1", "PK", "", "Tomatoes Roma 25lb", Item{Base: "lb", Units: map[string]decimal.Decimal{"pk": decimal.NewFromInt(5)}}, "5"},
		// An item counted in oz counts a weight: no volume converts.
		{"1", "gal", "", "Honey Clover", Item{Base: "oz"}, ""},
		{"1", "l", "", "Salmon Fillet", Item{Base: "oz"}, ""},
		// An operator's conversion of a unit holds for its dimension.
		{"2", "dz", "", "Avocados Hass 25 lb", Item{Base: "lb", Units: map[string]decimal.Decimal{"ea": decimal.RequireFromString("0.5")}}, "12"},
		{"1", "kg", "", "Saffron", Item{Base: "ea", Units: map[string]decimal.Decimal{"g": decimal.RequireFromString("2")}}, "2000"},
		// A conversion set under a spelling that is now another's.
		{"6", "bottles", "", "Wine Merlot", Item{Base: "ml", Units: map[string]decimal.Decimal{"bottles": decimal.NewFromInt(750)}}, "4500"},
		{"6", "BT", "12/750ml", "Wine Merlot", Item{Base: "ml", Units: map[string]decimal.Decimal{"bt": decimal.NewFromInt(700)}}, "4200"},
	} {
		got, err := toBase(decimal.RequireFromString(c.q), c.unit, c.pack, c.description, c.it)
		var ce *ConvertError
		switch {
		case c.want == "" && !errors.As(err, &ce):
			t.Errorf("%s %s %q %q into %q: got %v, %v; want a ConvertError", c.q, c.unit, c.pack, c.description, c.it.Base, got, err)
		case c.want != "" && (err != nil || !got.Equal(decimal.RequireFromString(c.want))):
			t.Errorf("%s %s %q %q into %q: got %v, %v; want %s", c.q, c.unit, c.pack, c.description, c.it.Base, got, err, c.want)
		}
	}
}

func TestReadNumber(t *testing.T) {
	for in, want := range map[string]string{
		"12": "12", "2.5": "2.5", "1.000": "1.000", "1,5": "1.5", "12,50": "12.50", "1,000": "1000",
		"1,0000": "1.0000", "1,000,000": "1000000", "1,000.5": "1000.5", "1.000,5": "1000.5",
		"1.000.000": "1000000", "1,000,5": "1000.5",
		"1.2.3": "", "1.5,5": "", "1,5,5": "", "1.000.5": "",
		"0,750": "0.750", "0,125": "0.125", "00,125": "00.125", "0.000.000": "",
	} {
		got, ok := ReadNumber(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("ReadNumber(%q) = %q, %t; want %q", in, got, ok, want)
		}
	}
}

func TestSizes(t *testing.T) {
	for d, want := range map[string]string{
		"Cups 12 oz":                "340.1942775g",
		"Cups 1 lb":                 "453.59237g",
		"Keg Stella Artois 1/6 bbl": "19557.960884ml",
		"Whole Milk 4/1 GAL":        "3785.411784ml 15141.647136ml",
		"Lemons 115 ct.":            "115ea",
		"Tomato Paste 6/#10":        "",
		"Ground Beef 80/20":         "",
		"Milk 1 1/2 gal":            "5678.117676ml",
		"Milk 1½ gal":               "5678.117676ml",
		"Milk ½ gal":                "1892.705892ml",
		"Ground Beef 2-1/2 lb":      "1133.980925g",
		"Butter 2 3/4 lb":           "1247.3790175g",
		"Napkins 1,000 ct":          "1000ea",
		"Merlot 75cl":               "750ml",
		"Saffron 2 gms":             "2g",
		"Cups Foam 12-oz":           "340.1942775g",
		"Riesling 6x0,750 l":        "750ml 4500ml",
		"Merlot 2019 12x750ml":      "750ml 9000ml", // a vintage, not 2019 12/750
	} {
		var got []string
		for _, s := range Sizes(d) {
			got = append(got, s.String())
		}
		if strings.Join(got, " ") != want {
			t.Errorf("Sizes(%q) = %q, want %q", d, strings.Join(got, " "), want)
		}
	}
}

func TestConvertErrorNamesTheFix(t *testing.T) {
	_, err := toBase(decimal.NewFromInt(2), "bag", "", "Canola Oil", Item{ID: 12, Name: "Canola Oil", Base: "gal"})
	want := `cannot convert "bag" into "gal", the base unit of item 12 "Canola Oil"; give a pack size (pack field, e.g. 4/1GAL), or run: batchimport units set 12 bag FACTOR (how many gal one bag holds), then import the rejects again`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant  %s", err, want)
	}
	// Of another account than the default, the command names it.
	_, err = toBase(decimal.NewFromInt(2), "bag", "", "Canola Oil", Item{ID: 12, Account: "acme co", Name: "Canola Oil", Base: "gal"})
	if want := "run: batchimport units set --account 'acme co' 12 bag FACTOR"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant it to hold %s", err, want)
	}
	// A pack size would not help: the line gave one, or its unit is a
	// weight or a volume.
	for _, c := range []struct{ unit, pack string }{{"cs", "4/1 gal"}, {"gal", ""}} {
		_, err = toBase(decimal.NewFromInt(2), c.unit, c.pack, "Whole Milk", Item{ID: 7, Name: "Whole Milk", Base: "ea"})
		want = fmt.Sprintf(`cannot convert %q into "ea", the base unit of item 7 "Whole Milk"; run: batchimport units set 7 %s FACTOR (how many ea one %s holds), then import the rejects again`, c.unit, c.unit, c.unit)
		if err == nil || err.Error() != want {
			t.Errorf("%s with pack %q: error %v\nwant  %s", c.unit, c.pack, err, want)
		}
	}
}

func TestBase(t *testing.T) {
	for _, c := range []struct{ unit, pack, description, want string }{
		{"CS", "1/25LB", "Roma Tomatoes", "lb"},
		{"cs", "", "Roma Tomatoes 25lb", "lb"},
		{"CS", "", "Whole Milk 1 Gal", "cs"}, // no size for a case: it counts cases
		{"gal", "", "Whole Milk", "gal"},
		{"DZ", "", "Eggs", "ea"},
		{"", "", "Eggs", "ea"}, // no unit: it counts the item
		{"Lbs", "", "Butter", "lb"},
		{"cs", "", "Beef Patty 4 oz 10 lb", "lb"},
		{"cs", "", "Shrimp 16/20 ct 5 lb", "lb"},
		{"cs", "", "Peaches Sliced #10", "cs"}, // how many cans a case holds is unknown
		{"PK", "", "Bacon Sliced 15 lb", "pk"}, // a unit no size of the description converts: it counts in it
		{"PK", "12/1LB", "Bacon Sliced", "lb"}, // the pack field says what one holds
	} {
		if got := BaseOf(c.unit, Packs(c.pack, c.description), c.pack != ""); got != c.want {
			t.Errorf("BaseOf(%q, Packs(%q, %q)) = %q, want %q", c.unit, c.pack, c.description, got, c.want)
		}
	}
}

// toBase converts a line's quantity as the importer does.
func toBase(q decimal.Decimal, unit, pack, description string, it Item) (decimal.Decimal, error) {
	it.NamePacks = Packs("", it.Name)
	f, _, err := Factor(unit, Packs(pack, description), it)
	if err != nil {
		return decimal.Decimal{}, err
	}
	qf, _ := fixed.FromDecimal(q)
	return Convert(qf, RateOf(f)).Decimal(), nil
}

// A line's pack field alone converts it, unless the item's name states it
// too; a line without one may take the size in the item's name.
func TestLineFactor(t *testing.T) {
	for _, c := range []struct {
		unit, pack, description, item string
		want                          string // per unit; "" = *ConvertError
	}{
		{"cs", "", "TOMATO ROMA", "Roma Tomatoes 25lb", "25"},
		{"cs", "4/1GAL", "Canola Oil", "Canola Oil 35 lb", ""},
		{"cs", "12 ct", "Canola Oil", "Canola Oil 35 lb", ""},
		{"cs", "90CT", "Potatoes Russet", "Potatoes Russet 50 lb 90 ct", "50"},
		{"cs", "1/25LB", "Roma Tomatoes", "Roma Tomatoes 10lb", "25"},
		// A pack field says what one of the line's unit holds, whatever
		// it is called; a size in the description or the name does not.
		{"PK", "12/1LB", "Bacon Sliced", "Bacon Sliced", "12"},
		{"CTN", "3/1LB", "Romaine Hearts", "Romaine Hearts", "3"},
		{"PK", "", "Bacon Sliced 15 lb", "Bacon Sliced 15 lb", ""},
	} {
		it := Item{Name: c.item, Base: "lb"}
		f, err := LineFactor(c.unit, c.pack != "", func() []Pack { return Packs(c.pack, c.description) }, func() []Pack { return Packs("", c.item) }, it)
		var ce *ConvertError
		switch {
		case c.want == "" && !errors.As(err, &ce):
			t.Errorf("%s %q of %q: got %v, %v; want a ConvertError", c.unit, c.pack, c.item, f, err)
		case c.want != "" && (err != nil || !f.Equal(decimal.RequireFromString(c.want))):
			t.Errorf("%s %q of %q: got %v, %v; want %s", c.unit, c.pack, c.item, f, err, c.want)
		}
	}
}
