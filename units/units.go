// Package units converts invoice quantities into an item's base unit, in
// exact decimals: unit spellings made one (LB, lbs and # are lb), the
// standard conversions within mass, volume and count, pack sizes such as
// 4/1GAL, and the conversions operators set for one item.
package units

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// Dimension is what a unit measures. Containers (a case, a bag) measure
// nothing by themselves: only a pack size or an operator gives them one.
type Dimension uint8

// The dimensions.
const (
	None Dimension = iota
	Mass
	Volume
	Count
)

// Scale is the decimals a base quantity keeps: a conversion that does not
// come out exact (kg to lb) is rounded, half to even, to this many.
const Scale = 3

// standard holds each unit of a dimension, as its size in the dimension's
// reference unit (kg, l, ea). Every factor is exact by definition.
var standard = map[string]struct {
	dim  Dimension
	size decimal.Decimal
}{
	"kg":   {Mass, decimal.RequireFromString("1")},
	"g":    {Mass, decimal.RequireFromString("0.001")},
	"mg":   {Mass, decimal.RequireFromString("0.000001")},
	"lb":   {Mass, decimal.RequireFromString("0.45359237")},
	"oz":   {Mass, decimal.RequireFromString("0.028349523125")}, // 1/16 lb
	"l":    {Volume, decimal.RequireFromString("1")},
	"ml":   {Volume, decimal.RequireFromString("0.001")},
	"cl":   {Volume, decimal.RequireFromString("0.01")},
	"dl":   {Volume, decimal.RequireFromString("0.1")},
	"gal":  {Volume, decimal.RequireFromString("3.785411784")},
	"qt":   {Volume, decimal.RequireFromString("0.946352946")},     // 1/4 gal
	"pt":   {Volume, decimal.RequireFromString("0.473176473")},     // 1/8 gal
	"cup":  {Volume, decimal.RequireFromString("0.2365882365")},    // 1/16 gal
	"floz": {Volume, decimal.RequireFromString("0.0295735295625")}, // 1/128 gal
	"bbl":  {Volume, decimal.RequireFromString("117.347765304")},   // 31 gal, a beer barrel
	"ea":   {Count, decimal.RequireFromString("1")},
	"dz":   {Count, decimal.RequireFromString("12")},
}

// spellings maps the ways invoices write a unit to its one name. A unit not
// listed is its own name, folded (see Normalize).
var spellings = map[string]string{
	"lb": "lb", "lbs": "lb", "#": "lb", "pound": "lb", "pounds": "lb",
	"oz": "oz", "ozs": "oz", "ounce": "oz", "ounces": "oz",
	"fl oz": "floz", "floz": "floz", "fl. oz": "floz", "fl.oz": "floz", "fluid ounce": "floz", "fluid ounces": "floz",
	"kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
	"g": "g", "gr": "g", "grs": "g", "gm": "g", "gms": "g", "gram": "g", "grams": "g",
	"mg": "mg", "milligram": "mg", "milligrams": "mg",
	"gal": "gal", "gallon": "gal", "gallons": "gal", "gals": "gal",
	"qt": "qt", "qts": "qt", "quart": "qt", "quarts": "qt",
	"pt": "pt", "pts": "pt", "pint": "pt", "pints": "pt",
	"cup": "cup", "cups": "cup", "bbl": "bbl", "barrel": "bbl", "barrels": "bbl",
	"l": "l", "lt": "l", "ltr": "l", "litre": "l", "liter": "l", "litres": "l", "liters": "l",
	"ml": "ml", "mls": "ml", "cc": "ml", "millilitre": "ml", "milliliter": "ml", "millilitres": "ml", "milliliters": "ml", "ltrs": "l",
	"cl": "cl", "centilitre": "cl", "centiliter": "cl", "centilitres": "cl", "centiliters": "cl",
	"dl": "dl", "decilitre": "dl", "deciliter": "dl", "decilitres": "dl", "deciliters": "dl",
	"ea": "ea", "each": "ea", "ct": "ea", "cnt": "ea", "count": "ea", "pc": "ea", "pcs": "ea", "piece": "ea", "pieces": "ea",
	"dz": "dz", "doz": "dz", "dozen": "dz",
	"cs": "cs", "case": "cs", "cases": "cs", "cse": "cs",
	"box": "box", "bx": "box", "bag": "bag", "bg": "bag", "sack": "sack", "tub": "tub", "pail": "pail",
	"tray": "tray", "flat": "flat", "keg": "keg", "btl": "btl", "bottle": "btl", "can": "can", "jar": "jar", "bunch": "bunch",
	// Plurals and the short forms invoices and EDI use (LBR, ONZ, GLL are
	// UN/ECE codes; CA, GA, BO X12's): unknown, no pack size would convert
	// them.
	"boxes": "box", "bxs": "box", "bags": "bag", "bgs": "bag", "sacks": "sack", "tubs": "tub", "pails": "pail",
	"trays": "tray", "flats": "flat", "kegs": "keg", "btls": "btl", "bottles": "btl", "bt": "btl", "bts": "btl",
	"cans": "can", "cn": "can", "jars": "jar", "jr": "jar", "bunches": "bunch", "bn": "bunch",
	"lbr": "lb", "onz": "oz", "kgm": "kg", "grm": "g", "gll": "gal", "mlt": "ml", "dzn": "dz", "pce": "ea",
	"ca": "cs", "ga": "gal", "bo": "btl", // X12's case, gallon, bottle
}

// unknown says a unit (normalized, not "") is none of the standard units
// and containers.
func unknown(u string) bool {
	return u != "" && DimensionOf(u) == None && !containers[u] && !inner[u]
}

// containers are the units a pack size converts, besides counts: a case
// holds the whole pack, an inner container one inner pack (inner).
var containers = map[string]bool{"cs": true, "flat": true, "bunch": true}

// Normalize is a unit's one name: "LB", "lbs" and "#" are "lb", "Case" is
// "cs". A unit it does not know is kept, lower-cased, without a trailing
// period and with single spaces.
func Normalize(unit string) string {
	u := strings.Join(strings.Fields(strings.ToLower(unit)), " ")
	u = strings.TrimSuffix(u, ".")
	if n, ok := spellings[u]; ok {
		return n
	}
	return u
}

// DimensionOf is what a unit, normalized, measures.
func DimensionOf(unit string) Dimension {
	return standard[unit].dim
}

// BaseOf is the base unit an item created from a line gets: the line's
// unit, or the unit of its pack size (packs, as Packs reads them) when the
// line counts containers, and ea for any count. A line with neither counts
// the item: ea too. Every new item has a base unit, so that a later line
// in a unit it cannot convert is refused, not counted as read (3 of a
// line without a unit, then 2 gal, were a stock of 5).
func BaseOf(unit string, packs []Pack, packField bool) string {
	u := Normalize(unit)
	if unknown(u) && !(packField && len(packs) > 0) {
		return u // no pack size converts it (LineFactor): the item counts in it
	}
	if DimensionOf(u) == None && len(packs) > 0 {
		u = ForUnit(packs, u)[0].Unit
	}
	if u == "" || DimensionOf(u) == Count {
		return "ea"
	}
	return u
}

// Item is what converting into an item needs: its base unit and the
// conversions operators set for it, by unit (normalized) to how many base
// units one of it holds.
type Item struct {
	ID      int64
	Account string // named in the fix a ConvertError gives, unless the default
	Name    string
	Base    string
	Units   map[string]decimal.Decimal
	// NamePacks are the pack sizes the item's name states (Packs("",
	// Name)): Factor does not read the name itself.
	NamePacks []Pack
}

// ConvertError says a line's unit has no conversion into its item's base
// unit, and how an operator gives it one.
type ConvertError struct {
	Unit string // as normalized
	Item Item
	// packless says a pack size would not help: the unit is a weight or a
	// volume, which no pack size converts, or the line gave one already.
	packless bool
}

func (e *ConvertError) Error() string {
	// An item this run creates has no id yet: it is named.
	item, ref := fmt.Sprintf("item %d %q", e.Item.ID, e.Item.Name), fmt.Sprint(e.Item.ID)
	if e.Item.ID == 0 {
		item, ref = fmt.Sprintf("item %q", e.Item.Name), quoteArg(e.Item.Name)
	}
	give := "give a pack size (pack field, e.g. 4/1GAL), or "
	if e.packless {
		give = ""
	}
	if a := e.Item.Account; a != "" && a != "default" {
		ref = "--account " + quoteArg(a) + " " + ref
	}
	return fmt.Sprintf("cannot convert %q into %q, the base unit of %s; %srun: batchimport units set %s %s FACTOR (how many %s one %s holds), then import the rejects again",
		e.Unit, e.Item.Base, item, give, ref, quoteArg(e.Unit), e.Item.Base, e.Unit)
}

// quoteArg quotes a unit for a shell when it needs it.
func quoteArg(s string) string {
	if s == "" || strings.ContainsAny(s, " #'\"$`\\&;|<>()*?[]{}~!") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// Factor is how many of the item's base unit one unit of the line holds,
// its pack sizes (packs, as Packs reads them) being known. In order: no
// unit or the base unit itself; an operator's conversion for the unit; a
// standard conversion; the pack size of the line, else of the item's name
// (Item.NamePacks), whose inner unit is then converted the same way (of a
// description's sizes, the first that converts), when the line's unit is
// a container or a count, not a mass, a volume or a unit unknown.
// Otherwise *ConvertError.
// byPack says the line's pack sizes gave it; else it holds for every line
// of the unit and item.
func Factor(unit string, packs []Pack, it Item) (f decimal.Decimal, byPack bool, err error) {
	u := Normalize(unit)
	if f, ok := direct(u, it); ok {
		return f, false, nil
	}
	if d := DimensionOf(u); d == Mass || d == Volume {
		// A pack size says what a container holds: a pound of an item
		// counted in millilitres is no "12x500ml" case of it.
		return decimal.Decimal{}, false, &ConvertError{Unit: u, Item: it, packless: true}
	}
	if unknown(u) {
		// A unit it does not know ("PK", "SLV") may be the case or what
		// it holds: an operator says which.
		return decimal.Decimal{}, false, &ConvertError{Unit: u, Item: it, packless: true}
	}
	// The line's pack size, else the item's own: a line of "Roma
	// Tomatoes 25lb" may call it "TOMATO ROMA".
	for i, ps := range [][]Pack{packs, it.NamePacks} {
		for _, p := range ForUnit(ps, u) {
			if DimensionOf(u) == Count && p.Count.Equal(one) && DimensionOf(p.Unit) != Count && statesCount(ps) && !piece(ps, p) {
				// "10 ea" of "Potatoes 50 lb 90 ct" are 10 of the 90, not
				// ten 50 lb cases; what one weighs, an operator says. (Of
				// "Beef Patty 4 oz 10 lb 40 ct", a piece is the 4 oz.)
				continue
			}
			if f, ok := direct(p.Unit, it); ok {
				return p.of(u).Mul(f), i == 0, nil
			}
		}
	}
	return decimal.Decimal{}, false, &ConvertError{Unit: u, Item: it, packless: len(packs) > 0}
}

// piece says whether p is a piece of a larger size of its kind in ps, at
// least twice it: the 4 oz of "Beef Patty 4 oz 10 lb", not the 50 lb of
// "Onions 50 lb (22.7 kg)", which states the case twice.
func piece(ps []Pack, p Pack) bool {
	d, twice := DimensionOf(p.Unit), p.Size.Mul(standard[p.Unit].size).Mul(decimal.NewFromInt(2))
	return slices.ContainsFunc(ps, func(q Pack) bool {
		return DimensionOf(q.Unit) == d && q.Count.Mul(q.Size).Mul(standard[q.Unit].size).GreaterThanOrEqual(twice)
	})
}

// statesCount says whether a pack of ps is a count of pieces ("90 ct").
func statesCount(ps []Pack) bool {
	return slices.ContainsFunc(ps, func(p Pack) bool { return DimensionOf(p.Unit) == Count })
}

// LineFactor is how many of the item's base unit one unit of a line holds,
// as an import converts it: by its unit alone, else by its pack sizes
// (packs: its pack field's, else its description's) and, only where the
// line gives no pack field or one the name states too, by the sizes of the
// item's name (names). A case the line says holds 4 gal is none of the
// item's 35 lb. A unit it does not know converts by the pack field alone,
// which says what one of it holds. The pack sizes are read only when
// needed.
func LineFactor(unit string, packField bool, packs, names func() []Pack, it Item) (decimal.Decimal, error) {
	f, _, err := Factor(unit, nil, it)
	if err == nil {
		return f, nil
	}
	if u := Normalize(unit); packField && unknown(u) {
		// A pack field says what one purchase unit holds, the line's
		// unit, whatever it is called ("3 PK" of 12/1LB are 36 lb).
		for _, p := range packs() {
			if f, ok := direct(p.Unit, it); ok {
				return p.Count.Mul(p.Size).Mul(f), nil
			}
		}
	}
	if !packField {
		it.NamePacks = names()
	}
	f, _, err = Factor(unit, packs(), it)
	if err != nil && packField && agree(packs(), names()) {
		// A pack field the name states too ("90CT" of "Potatoes 50 lb 90
		// ct") says nothing against the name's other sizes.
		it.NamePacks = names()
		f, _, err = Factor(unit, packs(), it)
	}
	return f, err
}

// agree says whether a pack of ps holds what one of qs holds.
func agree(ps, qs []Pack) bool {
	for _, p := range ps {
		for _, q := range qs {
			if p.Unit == q.Unit && p.Count.Mul(p.Size).Equal(q.Count.Mul(q.Size)) {
				return true
			}
		}
	}
	return false
}

// inner are the containers a case holds COUNT of in a COUNT/SIZE pack: a
// bottle of a "12/750ml" case of wine, a bag of "4/5LB" flour.
var inner = map[string]bool{"btl": true, "can": true, "jar": true, "bag": true, "box": true, "tub": true,
	"pail": true, "tray": true, "keg": true, "sack": true}

// of is how many of the pack's unit one u holds: the whole pack for a case
// or an unknown unit, one inner pack for an inner container or a count
// ("6 btl" of a 12/750ml case are 4.5 l, not 54 l; "6 ea" of a 24/12 oz
// case 72 oz).
func (p Pack) of(u string) decimal.Decimal {
	switch {
	case inner[u]:
		return p.Size
	case DimensionOf(u) == Count:
		return standard[u].size.Mul(p.Size)
	}
	return p.Count.Mul(p.Size)
}

// direct is how many base units one unit u holds, without a pack size.
func direct(u string, it Item) (decimal.Decimal, bool) {
	base := Normalize(it.Base)
	if u == "" || u == base || base == "" {
		return decimal.NewFromInt(1), true
	}
	if f, ok := it.Units[u]; ok {
		return f, true
	}
	// Set under a spelling that is now another's: "bottles", before it
	// was btl.
	keys := slices.Sorted(maps.Keys(it.Units))
	for _, v := range keys {
		if Normalize(v) == u {
			return it.Units[v], true
		}
	}
	from, to := standard[u], standard[base]
	if u == "oz" && to.dim == Volume {
		from = standard["floz"] // a bare oz of a liquid is a fluid ounce
	}
	if from.dim != None && from.dim == to.dim {
		return from.size.DivRound(to.size, 16), true
	}
	// An operator's conversion of a unit holds for the units of its
	// dimension: 1 ea = 0.5 lb makes 1 dz 6 lb (of the units set, the
	// first by name).
	for _, v := range keys {
		if w := standard[Normalize(v)]; from.dim != None && w.dim == from.dim {
			return from.size.DivRound(w.size, 16).Mul(it.Units[v]), true
		}
	}
	return decimal.Decimal{}, false
}
