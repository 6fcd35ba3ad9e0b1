package units

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/shopspring/decimal"
	"golang.org/x/text/unicode/norm"
)

// Pack is a pack size: Count inner packs of Size Unit each in one purchase
// unit (usually a case). "4/1GAL" is 4 × 1 gal; "40#" is 1 × 40 lb; "6/#10"
// is 6 × 1 ea, #10 being a can size.
type Pack struct {
	Count, Size decimal.Decimal
	Unit        string // normalized
}

// number is a number as sizes are written: "12", "2.5", "1,000", "1,5",
// "1.000,5" (ReadNumber reads it).
const number = `\d+(?:[.,]\d{3})*(?:[.,]\d+)?`

// ReadNumber reads the separators of a number as descriptions and pack
// fields write them, and says whether it is one number. Where a number
// has both, the last of points and commas is its decimal mark and the
// other separates thousands ("1,000.5", "1.000,5"). Else a comma before
// exactly three digits separates thousands ("1,000" is 1000), unless only
// a zero is before it ("0,750" is 0.75), any other comma is a decimal
// comma ("1,5" is 1.5); one point is a decimal point
// ("1.000" is 1), several separate thousands ("1.000.000"). The result
// is the digits with their decimal point: reading "1,5" as 15, or the "5"
// of "12,5 lb" alone, made different products one item, and a case of
// 12.5 lb one of 5 lb. Separators it cannot read ("1.2.3") are kept as
// points, and it is then no number.
func ReadNumber(s string) (string, bool) {
	dot, comma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	if comma < 0 {
		if dot == strings.IndexByte(s, '.') {
			return s, true
		}
		// Points more than once only separate thousands: "1.000.000".
		for i := 0; i < len(s); i++ {
			if s[i] == '.' && digitsAfter(s[i+1:]) != 3 || s[0] == '0' {
				return s, false
			}
		}
		return strings.ReplaceAll(s, ".", ""), true
	}
	mark := -1 // the decimal mark, where a number has both
	if dot >= 0 {
		mark = max(dot, comma)
	}
	var b strings.Builder
	points := 0
	for i, r := range s {
		if r != '.' && r != ',' {
			b.WriteRune(r)
			continue
		}
		// No number starts with a zero group: "0,750" is 0.75.
		thousands := digitsAfter(s[i+1:]) == 3 && s[0] != '0' && (mark < 0 && r == ',' || mark >= 0 && r != rune(s[mark]))
		if !thousands {
			b.WriteByte('.')
			points++
		}
	}
	return b.String(), points <= 1
}

// digitsAfter counts the digits s starts with.
func digitsAfter(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsDigit(r) {
			break
		}
		n++
	}
	return n
}

var (
	// packText is a whole pack field: [COUNT/]SIZE UNIT, then perhaps a
	// word such as AVG (a catch weight, billed by actual weight).
	packText = regexp.MustCompile(`^(?:(` + number + `)\s*/\s*)?(#10|` + number + `)\s*([a-z#][a-z. ]*?)?\s*(?:avg|average|apx|approx)?\.?$`)
	// packInText is a size inside a description: COUNT/SIZE UNIT, or SIZE
	// UNIT alone, or a can size; that it stands alone as words is checked
	// apart (inText).
	packInText = regexp.MustCompile(`(?:(` + number + `)\s*[/x]\s*)?(?:(#10)|(` + number + `)\s*-?\s*(#|pounds?|lbs?|fl\.? ?oz|fluid ounces?|ounces?|ozs|oz|kilograms?|kilos?|kgs?|grams?|gms?|grs?|gallons?|gals?|gal|g|mg|quarts?|qts|qt|pints?|pts|pt|liters?|litres?|ltrs?|lt|l|milliliters?|millilitres?|mls|ml|centiliters?|centilitres?|cl|deciliters?|decilitres?|dl|cc|barrels?|bbl|cups?|count|ct|each|ea|dozen|doz|dz|pieces?|pcs?))`)
)

// sizeText is a size a description states, as written: COUNT/SIZE UNIT,
// or SIZE UNIT; for a mixed fraction ("1 1/2 gal"), whole is its whole
// number.
type sizeText struct {
	count, size, unit, whole string
	slash                    bool   // COUNT/SIZE, not COUNTxSIZE
	rangeFrom                string // N of "N-M ct", where the size is M
	// can says a # is followed by digits: "6 #10" counts cans of size
	// #10, no 6 lb; Packs leaves it out (Sizes, and so keys, keep it).
	can bool
}

// fraction says whether the size is a fraction ("1/2 gal", "1 1/2 gal"):
// the size of the product, never of a case.
func (t sizeText) fraction() bool {
	return t.whole != "" || t.slash && isFraction(t.count, t.size)
}

// inText finds the sizes in a lower-cased description, each standing
// alone: not inside a longer number or word.
func inText(d string) []sizeText {
	d = plainFractions(d)
	var out []sizeText
	for _, ix := range packInText.FindAllStringSubmatchIndex(d, -1) {
		start, end := ix[0], ix[1]
		// A period may end a size ("12 ct.") as it ends an abbreviation.
		if end < len(d) && d[end] == '.' && (end+1 == len(d) || !isWordByte(d[end+1])) {
			end++
		}
		if start > 0 && (isWordByte(d[start-1]) || d[start-1] == ',' && start > 1 && isDigit(d[start-2])) ||
			end < len(d) && isWordByte(d[end]) && d[end-1] != '#' {
			continue // inside a word or a longer number ("1.000,5 kg")
		}
		m := make([]string, len(ix)/2)
		for i := range m {
			if ix[2*i] >= 0 {
				m[i] = d[ix[2*i]:ix[2*i+1]]
			}
		}
		count, ok1 := ReadNumber(m[1])
		size, ok2 := ReadNumber(m[3])
		if !ok1 || !ok2 {
			continue
		}
		if m[2] != "" {
			size = m[2]
		}
		t := sizeText{count: count, size: size, unit: m[4], slash: ix[3] >= 0 && ix[6] >= 0 && strings.Contains(d[ix[3]:ix[6]], "/"),
			rangeFrom: rangeBefore(d[:start]), can: d[end-1] == '#' && end < len(d) && isDigit(d[end])}
		if whole := wholeBefore(d[:start]); whole != "" && t.slash && isProperFraction(count, size) {
			t.whole = whole // "1 1/2 gal", not "2019 12x750ml"
		}
		out = append(out, t)
	}
	return out
}

// rangeBefore returns N when d, what comes before a size, ends "N-" or
// "N - ": the size ends a range ("18-22 ct"); "" otherwise.
func rangeBefore(d string) string {
	d = strings.TrimRight(d, " ")
	if !strings.HasSuffix(d, "-") {
		return ""
	}
	d = strings.TrimRight(d[:len(d)-1], " ")
	j := len(d)
	for j > 0 && isDigit(d[j-1]) {
		j--
	}
	if j == len(d) || j > 0 && (isWordByte(d[j-1]) || d[j-1] == '.' || d[j-1] == ',') {
		return ""
	}
	return d[j:]
}

// wholeBefore returns the whole number a fraction starting after d
// follows, as in "1 1/2" or "1-1/2"; "" when there is none.
func wholeBefore(d string) string {
	i := len(d)
	if i == 0 || d[i-1] != ' ' && d[i-1] != '-' {
		return ""
	}
	for i > 0 && (d[i-1] == ' ' || d[i-1] == '-') {
		i--
	}
	j := i
	for j > 0 && isDigit(d[j-1]) {
		j--
	}
	if j == i || j > 0 && (isWordByte(d[j-1]) || d[j-1] == ',') {
		return ""
	}
	return d[j:i]
}

// isProperFraction says whether count/size, as written, is a fraction
// less than one: "1/2", "3/4".
func isProperFraction(count, size string) bool {
	n, err1 := strconv.Atoi(count)
	m, err2 := strconv.Atoi(size)
	return err1 == nil && err2 == nil && n > 0 && n < m
}

// plainFractions writes the fraction characters as digits and a slash:
// "½" and the fraction slash of its compatibility form "1⁄2" as "1/2",
// after a space, so that "1½" is "1 1/2".
func plainFractions(d string) string {
	if isASCII(d) {
		return d
	}
	var b strings.Builder
	for _, r := range d {
		switch {
		case r == '\u2044' || r == '\u2215':
			b.WriteByte('/')
		case unicode.Is(unicode.No, r) && strings.ContainsRune(norm.NFKD.String(string(r)), '\u2044'):
			b.WriteByte(' ')
			b.WriteString(strings.ReplaceAll(norm.NFKD.String(string(r)), "\u2044", "/"))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '.' || b == '/'
}

// Packs lists the pack sizes a line gives: its pack field's, when it has
// one, else the sizes its description holds that can size a case. A bare
// size in a description sizes a case when it is a weight or a count
// ("Roma Tomatoes 25lb", "40# CS", "Napkins 500ct"); a bare volume or
// can size describes the product itself ("Whole Milk 1 Gal", "Peaches
// #10"), so only COUNT/SIZE ("4/1 gal", "6/#10") sizes a case by them.
func Packs(pack, description string) []Pack {
	if pack = strings.TrimSpace(strings.ToLower(pack)); pack != "" {
		m := packText.FindStringSubmatch(pack)
		if m == nil {
			return nil
		}
		count, ok1 := ReadNumber(m[1])
		size, ok2 := ReadNumber(m[2])
		if !ok1 || !ok2 {
			return nil
		}
		if p, ok := newPack(count, size, m[3]); ok {
			return []Pack{p}
		}
		return nil
	}
	var ps []Pack
	var grades, bare []bool
	weighed := false
	for _, t := range inText(strings.ToLower(description)) {
		p, ok := newPack(t.count, t.size, t.unit)
		// A bare volume or can size ("Whole Milk 1 Gal", "Peaches #10")
		// is the product's: only COUNT/SIZE sizes a case by them.
		if ok && !t.fraction() && !t.can && (t.count != "" || DimensionOf(p.Unit) != Volume && t.size != "#10") {
			ps, grades, bare = append(ps, p), append(grades, t.grade()), append(bare, t.count == "")
			weighed = weighed || DimensionOf(p.Unit) == Mass
		}
	}
	// A piece's weight, then how many pieces ("Steak Ribeye 12 oz 16 ct",
	// "Ketchup 9 g 1000 ct"), is a pack of them: a case is 16 × 12 oz, not
	// one steak. Only a weight in oz or g is a piece's: "Potatoes 50 lb 90
	// ct" is a 50 lb case of 90.
	for i := 0; i+1 < len(ps); i++ {
		if bare[i] && bare[i+1] && (ps[i].Unit == "oz" || ps[i].Unit == "g") && ps[i+1].Unit == "ea" && !grades[i+1] {
			ps[i].Count = ps[i+1].Size
		}
	}
	if !weighed {
		return ps
	}
	// Beside a weight, a count range is a grade, so many a pound ("Shrimp
	// 16/20 ct 5 lb", "Bacon 18-22 ct 15 lb"), which sizes no case.
	out := ps[:0]
	for i, p := range ps {
		if !grades[i] {
			out = append(out, p)
		}
	}
	return out
}

// grade says whether the size is a count range: N/M or N-M of a count,
// M above N and at most twice it ("16/20 ct", "10/20 ct", "18-22 ct"),
// where "16/250 ct" is a pack. Packs reads it as a grade only beside a
// weight: "Rolls 8/12 ct" are 8 packs of 12.
func (t sizeText) grade() bool {
	if DimensionOf(Normalize(t.unit)) != Count {
		return false
	}
	low := t.count
	if !t.slash || low == "" {
		low = t.rangeFrom
	}
	lo, err1 := decimal.NewFromString(low)
	hi, err2 := decimal.NewFromString(t.size)
	return err1 == nil && err2 == nil && hi.GreaterThan(lo) && hi.LessThanOrEqual(lo.Add(lo))
}

// ForUnit orders the pack sizes of a line counted in unit u (normalized)
// so that the one that unit is counted by comes first, of each dimension:
// a description may state a piece and the case ("Beef Patty 4 oz 10 lb":
// a 10 lb case of 4 oz patties, "Chicken Breast 6 oz 4/10 lb"). A case,
// or a unit unknown, is the largest; a count (ea, dz) is a piece, the
// smallest; an inner container (bag, btl, ...) the inner pack of a
// COUNT/SIZE, else the first size. Dimensions keep the order they come in.
// ps is not changed.
func ForUnit(ps []Pack, u string) []Pack {
	if len(ps) < 2 {
		return ps
	}
	first := map[Dimension]int{}
	for i, p := range ps {
		if _, ok := first[DimensionOf(p.Unit)]; !ok {
			first[DimensionOf(p.Unit)] = i
		}
	}
	size := func(p Pack) decimal.Decimal { return p.Size.Mul(standard[p.Unit].size) }
	var by func(a, b Pack) int
	switch {
	case DimensionOf(u) == Count:
		by = func(a, b Pack) int { return size(a).Cmp(size(b)) }
	case inner[u]:
		by = func(a, b Pack) int { return cmp.Compare(b.Count.Cmp(one), a.Count.Cmp(one)) }
	default:
		by = func(a, b Pack) int { return size(b).Mul(b.Count).Cmp(size(a).Mul(a.Count)) }
	}
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b Pack) int {
		return cmp.Or(cmp.Compare(first[DimensionOf(a.Unit)], first[DimensionOf(b.Unit)]), by(a, b))
	})
	return ps
}

var one = decimal.NewFromInt(1)

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
	// fluid is, for a size written in bare oz, the same number of fluid
	// ounces in l: "Cups 12 oz" hold 12 fl oz (Fluid).
	fluid decimal.Decimal
	bare  bool // written SIZE UNIT alone, no COUNT/SIZE nor a fraction
}

// Bare says whether the size is written alone ("6 oz"), not as a pack
// ("4/10 lb", of which both 10 lb and 40 lb are sizes) nor a fraction.
func (s Size) Bare() bool { return s.bare }

// Fluid is a size written in bare oz read as fluid ounces, a volume; false
// for any other size.
func (s Size) Fluid() (Size, bool) {
	if s.fluid.IsZero() {
		return Size{}, false
	}
	return Size{Dim: Volume, Value: s.fluid}, true
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
	for _, t := range inText(strings.ToLower(description)) {
		if t.unit == "" { // a can size
			continue
		}
		u := standard[Normalize(t.unit)]
		if u.dim == None {
			continue
		}
		// A bare oz may be a fluid ounce: as one, the same number of them.
		oz, floz := Normalize(t.unit) == "oz", standard["floz"].size
		add := func(value, fluid decimal.Decimal, bare bool) {
			sz := Size{Dim: u.dim, Value: value, bare: bare}
			if oz {
				sz.fluid = fluid
			}
			out = append(out, sz)
		}
		v := decimal.RequireFromString(t.size)
		if t.fraction() { // (whole × size + count) / size
			n := decimal.RequireFromString(t.count)
			if t.whole != "" {
				n = n.Add(decimal.RequireFromString(t.whole).Mul(v))
			}
			add(u.size.Mul(n).DivRound(v, 16), floz.Mul(n).DivRound(v, 16), false)
			continue
		}
		add(v.Mul(u.size), v.Mul(floz), t.count == "")
		if n := t.count; n != "" && n != "1" {
			c := decimal.RequireFromString(n)
			add(v.Mul(u.size).Mul(c), v.Mul(floz).Mul(c), false)
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
