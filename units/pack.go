package units

import (
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// Pack is a pack size: Count inner packs of Size Unit each in one purchase
// unit (usually a case). "4/1GAL" is 4 × 1 gal; "40#" is 1 × 40 lb; "6/#10"
// is 6 × 1 ea, #10 being a can size.
type Pack struct {
	Count, Size decimal.Decimal
	Unit        string // normalized
}

var (
	// packText is a whole pack field: [COUNT/]SIZE UNIT, then perhaps a
	// word such as AVG (a catch weight, billed by actual weight).
	packText = regexp.MustCompile(`^(?:(\d+(?:\.\d+)?)\s*/\s*)?(#10|\d+(?:\.\d+)?)\s*([a-z#][a-z. ]*?)?\s*(?:avg|average|apx|approx)?\.?$`)
	// packInText is a size inside a description: COUNT/SIZE UNIT, or SIZE
	// UNIT alone, or a can size; that it stands alone as words is checked
	// apart (inText).
	packInText = regexp.MustCompile(`(?:(\d+(?:\.\d+)?)\s*[/x]\s*)?(?:(#10)|(\d+(?:\.\d+)?)\s*(#|pounds?|lbs?|fl\.? ?oz|fluid ounces?|ounces?|oz|kilograms?|kilos?|kgs?|grams?|gallons?|gals?|gal|g|quarts?|qt|pints?|pt|liters?|litres?|ltrs?|lt|l|milliliters?|millilitres?|ml|barrels?|bbl|cups?|count|ct|each|ea|dozen|doz|dz|pieces?|pcs?))`)
)

// inText finds the sizes in a lower-cased description, each standing
// alone: not inside a longer number or word.
func inText(d string) [][]string {
	var out [][]string
	for _, ix := range packInText.FindAllStringSubmatchIndex(d, -1) {
		start, end := ix[0], ix[1]
		// A period may end a size ("12 ct.") as it ends an abbreviation.
		if end < len(d) && d[end] == '.' && (end+1 == len(d) || !isWordByte(d[end+1])) {
			end++
		}
		if start > 0 && isWordByte(d[start-1]) || end < len(d) && isWordByte(d[end]) && d[end-1] != '#' {
			continue
		}
		m := make([]string, len(ix)/2)
		for i := range m {
			if ix[2*i] >= 0 {
				m[i] = d[ix[2*i]:ix[2*i+1]]
			}
		}
		size, unit := m[3], m[4]
		if m[2] != "" {
			size = m[2]
		}
		out = append(out, []string{m[0], m[1], size, unit})
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '/'
}

// Packs lists the pack sizes a line gives: its pack field's, when it has
// one, else the sizes its description holds that can size a case. A bare
// size in a description sizes a case when it is a weight or a count
// ("Roma Tomatoes 25lb", "40# CS", "Napkins 500ct"); a bare volume
// describes the product itself ("Whole Milk 1 Gal"), so only COUNT/SIZE
// ("4/1 gal") sizes a case by volume.
func Packs(pack, description string) []Pack {
	if pack = strings.TrimSpace(strings.ToLower(pack)); pack != "" {
		m := packText.FindStringSubmatch(pack)
		if m == nil {
			return nil
		}
		if p, ok := newPack(m[1], m[2], m[3]); ok {
			return []Pack{p}
		}
		return nil
	}
	var ps []Pack
	for _, m := range inText(strings.ToLower(description)) {
		p, ok := newPack(m[1], m[2], m[3])
		if ok && !isFraction(m[1], m[2]) && (m[1] != "" || DimensionOf(p.Unit) != Volume) {
			ps = append(ps, p)
		}
	}
	return ps
}

// isFraction tells a fraction ("1/2 gal", "1/6 bbl", "1/4 lb") from a
// pack size ("1/25 lb") in a description: a fraction is the size of the
// product, never of a case.
func isFraction(count, size string) bool {
	switch {
	case count != "1":
		return false
	case size == "2", size == "3", size == "4", size == "6", size == "8":
		return true
	}
	return false
}

// Size is a size a description states, of the product or of each of its
// inner packs, in its dimension's reference unit (kg, l, ea).
type Size struct {
	Dim   Dimension
	Value decimal.Decimal
}

// String is the size in g, ml or ea: "453.59237g".
func (s Size) String() string {
	switch s.Dim {
	case Mass:
		return s.Value.Shift(3).String() + "g"
	case Volume:
		return s.Value.Shift(3).String() + "ml"
	}
	return s.Value.String() + "ea"
}

// Sizes lists the sizes a description states, in order: of a product
// ("Cups 12 oz", "Keg 1/6 bbl"), or of a pack and what it holds ("4/1 gal"
// is 1 gal and 4 gal): a "Whole Milk 1 gal" may come as 4/1 gal, and
// "Strawberries 8 lb" as 8/1 lb.
func Sizes(description string) []Size {
	var out []Size
	for _, m := range inText(strings.ToLower(description)) {
		if m[3] == "" { // a can size
			continue
		}
		u := standard[Normalize(m[3])]
		if u.dim == None {
			continue
		}
		v := decimal.RequireFromString(m[2])
		if isFraction(m[1], m[2]) {
			out = append(out, Size{Dim: u.dim, Value: u.size.DivRound(v, 16)})
			continue
		}
		out = append(out, Size{Dim: u.dim, Value: v.Mul(u.size)})
		if n := m[1]; n != "" && n != "1" {
			out = append(out, Size{Dim: u.dim, Value: v.Mul(u.size).Mul(decimal.RequireFromString(n))})
		}
	}
	return out
}

// ParsePack reads a pack field, or says it is none.
func ParsePack(pack string) (Pack, bool) {
	ps := Packs(pack, "")
	if len(ps) == 0 {
		return Pack{}, false
	}
	return ps[0], true
}

func newPack(count, size, unit string) (Pack, bool) {
	p := Pack{Count: decimal.NewFromInt(1)}
	if count != "" {
		p.Count = decimal.RequireFromString(count)
	}
	if size == "#10" { // a can size: the pack counts cans
		p.Size, p.Unit = decimal.NewFromInt(1), "ea"
		return p, p.Count.IsPositive()
	}
	p.Size = decimal.RequireFromString(size)
	p.Unit = Normalize(unit)
	if p.Unit == "" {
		return Pack{}, false
	}
	return p, p.Count.IsPositive() && p.Size.IsPositive() && DimensionOf(p.Unit) != None
}
