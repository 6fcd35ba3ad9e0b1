//go:build linux

package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/batchimport/batchimport/mapping"
)

// genSeed fixes the generated data: the same -rows always produces the same
// bytes, so runs on different days and machines compare like with like.
const genSeed = 20260504

// catalogueSize and vendorCount shape the catalogue the importer resolves
// against (issue 6: about 5,000 items over 50 vendors).
const (
	catalogueSize = 5000
	vendorCount   = 50
	// noSKUVendors is how many vendors (the last ones: produce farms and
	// small suppliers) print no SKU, so their lines resolve by description.
	noSKUVendors = 5
	// variantShare is the share of lines whose description is a variant of
	// the product's canonical name rather than the name itself.
	variantShare = 0.20
)

var header = []string{"invoice_number", "invoice_date", "vendor", "vendor_sku", "description", "quantity", "unit", "unit_price"}

// product is one item a vendor sells: its SKU, canonical description, a few
// spellings of that description seen on invoices, its unit and list price.
type product struct {
	vendor   int
	sku      string // empty for vendors that print none
	name     string
	variants []string
	unit     string
	price    int64 // list price in 1/10000 of the currency unit
	decimals int   // how many fractional digits this vendor prints quantities with (weights)
}

// vendor is a supplier: its name, invoice number prefix, and its products
// ordered by popularity (index 0 is bought most).
type vendor struct {
	name     string
	prefix   string
	products []int
	weight   float64 // share of invoices
	nextInv  int
	hasSKU   bool
	skuStyle int
}

// vendorNames are the 50 suppliers; a mix of broadline distributors,
// specialists and local farms, as a restaurant group's invoices would show.
var vendorNames = []string{
	"Sysco", "US Foods", "Performance Foodservice", "Gordon Food Service", "Shamrock Foods",
	"Ben E. Keith", "Reinhart Foodservice", "Cheney Brothers", "Chef's Warehouse", "Restaurant Depot",
	"Baldor Specialty Foods", "Sid Wainer & Son", "Jetro Cash & Carry", "Dairyland Produce", "Fresh Point",
	"Pro*Act", "Markon Cooperative", "Nicholas & Co", "Labatt Food Service", "Maines Paper & Food",
	"Martin Bros.", "Hillcrest Foodservice", "Merchants Foodservice", "Cash-Wa Distributing", "Food Services of America",
	"Pacific Seafood", "Samuels Seafood", "Chesapeake Bay Fish Co", "Northeast Meat Supply", "Prime Cuts Wholesale",
	"Allen Brothers", "Creekstone Farms", "Hormel Foodservice", "Tyson Foodservice", "Land O'Lakes Dairy",
	"Hiland Dairy", "Borden Dairy", "Bimbo Bakeries", "King's Hawaiian Bakery", "La Brea Bakery",
	"Dade Paper", "Imperial Dade", "Ecolab", "Bunzl Distribution", "Staples Business",
	"Green Acres Farm", "Sunny Hollow Orchard", "Riverbend Growers", "Three Sisters Farm", "Hilltop Mushrooms",
}

// brands, modifiers and bases make product names; their combinations give
// far more than catalogueSize distinct names after normalization.
var brands = []string{
	"Golden Valley", "Harvest Pride", "Blue Ridge", "Prairie Gold", "Coastal Catch",
	"Summit", "Lakeside", "Sunrise", "Oak Hill", "Silver Creek",
	"Heritage", "Northstar", "Red Barn", "Green Meadow", "Pacific Crest",
	"Cypress Grove", "Stone Mill", "Kitchen Essentials", "Chef's Choice", "Market Fresh",
}

var modifiers = []string{
	"Organic", "Frozen", "Sliced", "Diced", "Shredded", "Chopped", "Smoked", "Breaded",
	"Large", "Medium", "Small", "Yellow", "Green", "White", "Red", "Unsalted",
	"Premium", "Select", "Fancy", "Grade A", "Whole", "Peeled", "Roasted", "Baby", "Boneless",
}

var bases = []string{
	"Chicken Breast", "Chicken Thigh", "Chicken Wings", "Ground Beef 80/20", "Beef Brisket",
	"Pork Loin", "Pork Shoulder", "Bacon", "Turkey Breast", "Breakfast Sausage",
	"Mozzarella Cheese", "Cheddar Cheese", "Parmesan Cheese", "Provolone Cheese", "American Cheese",
	"Butter", "Heavy Cream", "Milk", "Greek Yogurt", "Eggs",
	"Tomatoes", "Romaine Lettuce", "Mushrooms", "Avocados", "Broccoli",
	"Cauliflower", "Cucumbers", "Zucchini", "Jalapenos", "Cilantro",
	"Garlic", "Lemons", "Oranges", "Strawberries", "Blueberries",
	"Onions", "Potatoes", "Carrots", "Celery", "Spinach",
	"Flour", "Sugar", "Olive Oil", "Vegetable Oil", "Mayonnaise",
	"Ketchup", "Flour Tortillas", "Spaghetti", "Jasmine Rice", "Black Beans",
	"Salmon Fillet", "Shrimp 16/20", "Cod Loin", "Coffee Beans", "Chocolate Chips",
	"Paper Towels", "Nitrile Gloves", "Dinner Napkins", "Aluminum Foil", "Hot Cups",
}

// packSizes are appended to names; normalization drops them, as it drops
// them from the invoices, so they only add realistic noise.
var packSizes = []string{
	"25 lb", "4/1 gal", "12 ct", "6/#10", "10 lb", "24 ct", "1 gal", "5 kg", "12x500ml",
	"40 lb case", "2/5 lb", "15 dz", "6 pk", "1000 ct", "",
}

// abbreviations are how invoices shorten words; each expands back under
// mapping.Normalize, so a variant made with them is the same item.
var abbreviations = map[string]string{
	"Chicken": "CHKN", "Breast": "BRST", "Thigh": "THGH", "Beef": "BF", "Ground": "GRND",
	"Pork": "PRK", "Turkey": "TKY", "Bacon": "BCN", "Sausage": "SAUS", "Mozzarella": "MOZZ",
	"Cheddar": "CHED", "Parmesan": "PARM", "Provolone": "PROV", "Cheese": "CHS", "Butter": "BTR",
	"Cream": "CRM", "Heavy": "HVY", "Milk": "MLK", "Yogurt": "YGRT", "Tomatoes": "TOMS",
	"Lettuce": "LETT", "Mushrooms": "MUSH", "Avocados": "AVO", "Broccoli": "BROC", "Cauliflower": "CAULI",
	"Jalapenos": "JAL", "Cilantro": "CIL", "Garlic": "GARL", "Lemons": "LMN", "Strawberries": "STRAWB",
	"Flour": "FLR", "Sugar": "SUG", "Vegetable": "VEG", "Mayonnaise": "MAYO", "Tortillas": "TORT",
	"Spaghetti": "SPAG", "Chocolate": "CHOC", "Frozen": "FRZN", "Sliced": "SLCD", "Diced": "DCD",
	"Shredded": "SHRD", "Chopped": "CHPD", "Smoked": "SMKD", "Breaded": "BRD", "Large": "LG",
	"Medium": "MED", "Small": "SM", "Yellow": "YEL", "Green": "GRN", "White": "WHT",
	"Organic": "ORG", "Unsalted": "UNSLTD", "Boneless": "BNLS",
}

var unitsByBase = []string{"cs", "lb", "ea", "kg", "gal", "bx", "dz"}

// catalogue is the generated set of vendors and products.
type catalogue struct {
	vendors  []vendor
	products []product
}

// newCatalogue builds the vendors and catalogueSize products whose
// canonical names are distinct after mapping.Normalize (otherwise two
// "products" would silently be one inventory item and the catalogue would
// be smaller than announced).
func newCatalogue(r *rand.Rand) *catalogue {
	c := &catalogue{}
	for i, n := range vendorNames[:vendorCount] {
		v := vendor{
			name:     n,
			prefix:   vendorPrefix(n, i),
			hasSKU:   i < vendorCount-noSKUVendors,
			skuStyle: i % 4,
			// Broadline distributors (the first vendors) get most invoices.
			weight:  1 / float64(i+3),
			nextInv: 100000 + r.IntN(800000),
		}
		c.vendors = append(c.vendors, v)
	}
	seen := map[string]bool{}
	for len(c.products) < catalogueSize {
		name := strings.TrimSpace(fmt.Sprintf("%s %s %s %s",
			brands[r.IntN(len(brands))], modifiers[r.IntN(len(modifiers))],
			bases[r.IntN(len(bases))], packSizes[r.IntN(len(packSizes))]))
		key := mapping.Normalize(name)
		if seen[key] {
			continue
		}
		seen[key] = true
		id := len(c.products)
		vi := id % vendorCount
		p := product{
			vendor: vi,
			name:   name,
			unit:   unitsByBase[r.IntN(len(unitsByBase))],
			// List prices from 0.25 to about 400, most under 50.
			price: 2500 + int64(r.ExpFloat64()*150000),
		}
		if r.IntN(3) == 0 {
			p.decimals = 3 // sold by weight
		}
		if c.vendors[vi].hasSKU {
			p.sku = skuFor(c.vendors[vi].skuStyle, c.vendors[vi].prefix, id, r)
		}
		p.variants = variantsOf(name, r)
		c.vendors[vi].products = append(c.vendors[vi].products, id)
		c.products = append(c.products, p)
	}
	return c
}

// vendorPrefix is the invoice number prefix of a vendor: its initials.
func vendorPrefix(name string, i int) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		if c := w[0]; c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		}
	}
	return fmt.Sprintf("%s%02d", b.String(), i)
}

// skuFor makes a SKU in one of a few vendor house styles.
func skuFor(style int, prefix string, id int, r *rand.Rand) string {
	switch style {
	case 0:
		return strconv.Itoa(1000000 + id*37 + r.IntN(37))
	case 1:
		return fmt.Sprintf("%s-%05d", prefix[:2], id)
	case 2:
		return fmt.Sprintf("%c%c%04d-%d", 'A'+rune(id%26), 'A'+rune(id/26%26), id, r.IntN(10))
	default:
		return fmt.Sprintf("%07d", id*13+7)
	}
}

// variantsOf returns three other spellings of a canonical name, each of one
// kind seen on real invoices: letter case, spacing, punctuation,
// abbreviation and word order, sometimes combined with a different pack
// size notation.
func variantsOf(name string, r *rand.Rand) []string {
	words := strings.Fields(name)
	kinds := r.Perm(5)[:3]
	out := make([]string, 0, 3)
	for _, k := range kinds {
		var v string
		switch k {
		case 0: // case
			if r.IntN(2) == 0 {
				v = strings.ToUpper(name)
			} else {
				v = strings.ToLower(name)
			}
		case 1: // spacing
			v = "  " + strings.Join(words, "   ") + " "
		case 2: // punctuation
			v = strings.Join(words[:len(words)/2], " ") + ", " + strings.Join(words[len(words)/2:], " ") + "."
		case 3: // abbreviation, the way invoice printers shout it
			ws := make([]string, len(words))
			for i, w := range words {
				if a, ok := abbreviations[w]; ok {
					ws[i] = a
				} else {
					ws[i] = strings.ToUpper(w)
				}
			}
			v = strings.Join(ws, " ")
		case 4: // word order: "Chicken Breast, Frozen, Golden Valley"
			ws := append([]string(nil), words...)
			for i, j := 0, len(ws)-1; i < j; i, j = i+1, j-1 {
				ws[i], ws[j] = ws[j], ws[i]
			}
			v = strings.Join(ws, " ")
		}
		out = append(out, v)
	}
	return out
}

// generate writes rows invoice lines to bigPath and the first smallRows of
// them to smallPath (so the small file's items and mappings are a subset of
// the big one's and it runs against the same steady-state catalogue). It
// streams through buffered writers and keeps only the catalogue in memory.
func generate(bigPath, smallPath string, rows, smallRows int) error {
	r := rand.New(rand.NewPCG(genSeed, genSeed^0x9e3779b97f4a7c15))
	c := newCatalogue(r)

	open := func(path string) (*os.File, *bufio.Writer, *csv.Writer, error) {
		f, err := os.Create(path)
		if err != nil {
			return nil, nil, nil, err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		return f, bw, csv.NewWriter(bw), nil
	}
	bigF, bigB, bigW, err := open(bigPath)
	if err != nil {
		return err
	}
	defer bigF.Close()
	smallF, smallB, smallW, err := open(smallPath)
	if err != nil {
		return err
	}
	defer smallF.Close()

	var total float64
	for _, v := range c.vendors {
		total += v.weight
	}
	pickVendor := func() int {
		x := r.Float64() * total
		for i, v := range c.vendors {
			if x -= v.weight; x < 0 {
				return i
			}
		}
		return len(c.vendors) - 1
	}

	if err := bigW.Write(header); err != nil {
		return err
	}
	if err := smallW.Write(header); err != nil {
		return err
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := make([]string, len(header))
	for n := 0; n < rows; {
		vi := pickVendor()
		v := &c.vendors[vi]
		v.nextInv++
		invoice := fmt.Sprintf("%s-%07d", v.prefix, v.nextInv)
		// Invoices move forward in time through the file, 18 months in all.
		date := start.AddDate(0, 0, n*548/rows).Format("2006-01-02")
		lines := 3 + r.IntN(38)
		for l := 0; l < lines && n < rows; l++ {
			// A skewed choice: a few staples on most invoices, a long tail.
			u := r.Float64()
			pi := v.products[int(u*u*float64(len(v.products)))]
			p := &c.products[pi]
			desc := p.name
			if r.Float64() < variantShare {
				desc = p.variants[r.IntN(len(p.variants))]
			}
			rec[0] = invoice
			rec[1] = date
			rec[2] = v.name
			rec[3] = p.sku
			if r.IntN(20) == 0 {
				// Some invoice layouts leave the SKU out: such a line resolves
				// through its description mapping instead.
				rec[3] = ""
			}
			rec[4] = desc
			rec[5] = quantity(r, p.decimals)
			rec[6] = p.unit
			rec[7] = unitPrice(r, p.price)
			if err := bigW.Write(rec); err != nil {
				return err
			}
			if n < smallRows {
				if err := smallW.Write(rec); err != nil {
					return err
				}
			}
			n++
		}
	}
	for _, w := range []struct {
		c *csv.Writer
		b *bufio.Writer
		f *os.File
	}{{bigW, bigB, bigF}, {smallW, smallB, smallF}} {
		w.c.Flush()
		if err := w.c.Error(); err != nil {
			return err
		}
		if err := w.b.Flush(); err != nil {
			return err
		}
		if err := w.f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// quantity is a non-zero quantity: whole units for most products, up to 3
// decimals for those sold by weight; about 2% are negative (credits and
// returns).
func quantity(r *rand.Rand, decimals int) string {
	var milli int64
	if decimals == 3 {
		milli = 1 + r.Int64N(60000) // 0.001 to 60 kg or lb
	} else {
		milli = int64(1+r.IntN(24)) * 1000
		if r.IntN(10) == 0 {
			milli += 500 // half cases
		}
	}
	if r.IntN(50) == 0 {
		milli = -milli
	}
	return formatFixed(milli, 3)
}

// unitPrice is the list price moved by up to ±5% (deals, fuel surcharges),
// printed with 2 decimals most of the time and 4 otherwise.
func unitPrice(r *rand.Rand, list int64) string {
	p := list + list*int64(r.IntN(101)-50)/1000
	if r.IntN(4) == 0 {
		return formatFixed(p, 4)
	}
	return formatFixed(p/100, 2)
}

// formatFixed prints v/10^scale without floating point, dropping trailing
// fractional zeros ("12.500" is "12.5", "3.000" is "3").
func formatFixed(v int64, scale int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-scale], strings.TrimRight(s[len(s)-scale:], "0")
	if frac != "" {
		intPart += "." + frac
	}
	if neg {
		return "-" + intPart
	}
	return intPart
}
