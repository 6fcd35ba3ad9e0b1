package mapping

import (
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/units"
)

// Conflict rules: what tells look-alike descriptions apart, so that they
// never match, exactly or fuzzily, however similar they read.
//
//   - Sizes of one kind that differ: "Cups 12 oz" and "Cups 16 oz", "Keg
//     1/6 bbl" and "Keg 1/2 bbl", "Lemons 115 ct" and "Lemons 140 ct". Sizes
//     are compared by value (16 oz is 1 lb) and by kind (mass, volume,
//     count): "Canola Oil 35 lb" and "Canola Oil 5 gal" do not conflict. A
//     pack size stands for what it holds and for each pack in it: 4/1 gal
//     agrees with 1 gal and with 4 gal, 4/10 lb with 40 lb; but where both
//     state a piece, a size alone below a larger one of its kind, the
//     pieces must agree too ("Chicken Breast 6oz 10lb" and "8oz 10lb"
//     conflict). A bare oz may be a fluid ounce: against a description
//     that states volumes and no weight, it is compared as one, within 1%
//     ("Cups 12 oz" and "16 fl oz" conflict, "16.9 oz" and "500 ml" agree).
//   - Counts of one kind that differ, which are no size a unit measures:
//     "Coke 6pk" and "12pk", "Cheesecake 16 cut" and "12 cut", "Bacon 14-18
//     slice" and "18-22 slice".
//   - Numbers that differ: "Ground Beef 80/20" and "90/10", "Shrimp 16/20"
//     and "21/25", "Pinot Grigio 2022" and "2023", "2% Milk" and "1% Milk".
//   - Qualifiers of one kind that differ: skin on/off, bone-in/boneless,
//     salted/unsalted, whole/skim/low fat, diet/zero, sweetened/unsweetened,
//     raw/cooked, seeded/seedless, caffeinated/decaf, tail and head on/off,
//     thick/thin, small/medium/large/xl/jumbo, and colours (red, yellow,
//     green, ...).
//
// A description that does not state a size, a number or a qualifier of a
// kind may still match one that does: "Roma Tomatoes" matches "Roma
// Tomatoes 25lb", "Ground Beef" matches "Ground Beef 80/20".
type traits struct {
	sizes []string // each size of a kind as units.Size writes it ("453.59237g"), sorted
	// fluid are the sizes written in bare oz as fluid ounces ("354.88235475ml"):
	// the volumes of a description that states none, for "Cups 12 oz" is
	// no "Cups 16 fl oz", nor "Juice 64 oz" a "Juice 1 gal".
	fluid []string
	// pieces are, of each kind, the least size written alone when a larger
	// one of the kind is stated too: the 6 oz of "Chicken Breast 6oz 10lb"
	// and of "6 oz 4/10 lb".
	pieces []string
	// counts are numbers of pieces or packs no unit measures, as
	// "kind=number" ("pk=6", "cut=16"), sorted
	counts []string
	nums   []string // the numbers of the key, sorted
	quals  []string // "kind=label", sorted
}

// traitsOf reads the traits of a description.
func traitsOf(description string) traits {
	folded := fold(description)
	words := rewriteWords(dropPackSizes(tokenize(folded)))
	var t traits
	for i := 0; i < len(words); i++ {
		w := words[i]
		if isNumber(w) || strings.HasSuffix(w, "pct") && isNumber(strings.TrimSuffix(w, "pct")) {
			t.nums = append(t.nums, w)
			continue
		}
		q, ok := [2]string{}, false
		if i+1 < len(words) {
			if q, ok = qualifiers[w+" "+words[i+1]]; ok {
				i++
			}
		}
		if !ok {
			q, ok = qualifiers[w]
		}
		if ok {
			t.quals = append(t.quals, q[0]+"="+q[1])
		}
	}
	toks := tokenize(folded)
	t.quals = append(t.quals, grades(toks)...)
	t.counts = counts(toks)
	t.sizes, t.fluid, t.pieces = sizesOf(folded)
	slices.Sort(t.nums)
	slices.Sort(t.quals)
	t.quals = slices.Compact(t.quals)
	return t
}

// grades reads grade letters: "Grade A", "Grade AA", "A Size", "Size B".
// They are read from the tokens, since Normalize drops "a" as a word.
func grades(toks []token) []string {
	var out []string
	isWord := func(i int, w string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == tokWord && toks[i].text == w
	}
	for i, t := range toks {
		if t.kind != tokWord || len(t.text) > 2 || strings.Trim(t.text, "abcd") != "" {
			continue
		}
		if isWord(i-1, "grade") || isWord(i-1, "size") || isWord(i+1, "size") {
			out = append(out, "grade="+t.text)
		}
	}
	return out
}

// countKinds are the words of counts that no unit measures (units.Sizes
// reads ct, ea, dz and pc), by kind.
var countKinds = map[string]string{
	"pk": "pk", "pks": "pk", "pack": "pk", "packs": "pk", "pkg": "pk", "pkgs": "pk",
	"cut": "cut", "slice": "slice", "slices": "slice",
	"portion": "portion", "portions": "portion", "serving": "portion", "servings": "portion",
}

// counts reads the counts of a description's tokens: a number and, right
// after it, a word of countKinds.
func counts(toks []token) []string {
	var out []string
	for i := 0; i+1 < len(toks); i++ {
		if kind, ok := countKinds[toks[i+1].text]; ok && toks[i].kind == tokNumber && toks[i+1].kind == tokWord {
			out = append(out, kind+"="+toks[i].text)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sizesOf lists the distinct sizes a folded description states, those
// written in bare oz as fluid ounces, and its pieces (traits), each
// sorted.
func sizesOf(folded string) (sizes, fluid, pieces []string) {
	all := units.Sizes(folded)
	for _, s := range all {
		sizes = append(sizes, s.String())
		if f, ok := s.Fluid(); ok {
			fluid = append(fluid, f.String())
		}
	}
	for _, dim := range []units.Dimension{units.Mass, units.Volume, units.Count} {
		var least, most *units.Size
		for i := range all {
			s := &all[i]
			if s.Dim != dim {
				continue
			}
			if most == nil || s.Value.GreaterThan(most.Value) {
				most = s
			}
			if s.Bare() && (least == nil || s.Value.LessThan(least.Value)) {
				least = s
			}
		}
		if least != nil && least.Value.LessThan(most.Value) {
			pieces = append(pieces, least.String())
		}
	}
	slices.Sort(sizes)
	slices.Sort(fluid)
	return slices.Compact(sizes), slices.Compact(fluid), pieces
}

// conflicts says whether two descriptions are different items by their
// traits, and why.
func (t traits) conflicts(o traits) (string, bool) {
	if len(t.nums) > 0 && len(o.nums) > 0 && !slices.Equal(t.nums, o.nums) {
		return "numbers " + strings.Join(t.nums, " ") + " / " + strings.Join(o.nums, " "), true
	}
	for _, kind := range sizeKinds {
		a, b := having(t.sizes, kind, strings.HasSuffix), having(o.sizes, kind, strings.HasSuffix)
		if len(a) > 0 && len(b) > 0 && !slices.ContainsFunc(a, func(v string) bool { return slices.Contains(b, v) }) {
			return "sizes " + strings.Join(a, " ") + " / " + strings.Join(b, " "), true
		}
		pa, pb := having(t.pieces, kind, strings.HasSuffix), having(o.pieces, kind, strings.HasSuffix)
		if len(pa) > 0 && len(pb) > 0 && pa[0] != pb[0] {
			return "pieces " + pa[0] + " / " + pb[0], true
		}
	}
	if why, ok := t.fluidConflict(o); ok {
		return why, true
	}
	if why, ok := o.fluidConflict(t); ok {
		return why, true
	}
	for _, c := range t.counts {
		kind := c[:strings.IndexByte(c, '=')+1]
		a, b := having(t.counts, kind, strings.HasPrefix), having(o.counts, kind, strings.HasPrefix)
		if len(b) > 0 && !slices.ContainsFunc(a, func(v string) bool { return slices.Contains(b, v) }) {
			return "counts " + strings.Join(a, " ") + " / " + strings.Join(b, " "), true
		}
	}
	for _, q := range t.quals {
		kind := q[:strings.IndexByte(q, '=')+1]
		a, b := having(t.quals, kind, strings.HasPrefix), having(o.quals, kind, strings.HasPrefix)
		if len(b) > 0 && !slices.Equal(a, b) {
			return strings.Join(a, " ") + " / " + strings.Join(b, " "), true
		}
	}
	return "", false
}

// fluidConflict compares t's sizes in bare oz, as fluid ounces, with o's
// volumes, when t states no volume and o no weight (o's oz would be a
// weight, its volume something else: "Tea 1 oz 1 gal 96 ct" brews a
// gallon). Label sizes are rounded ("16.9 oz" for 500 ml), so they agree
// within 1%.
func (t traits) fluidConflict(o traits) (string, bool) {
	b := having(o.sizes, "ml", strings.HasSuffix)
	if len(t.fluid) == 0 || len(b) == 0 || len(having(t.sizes, "ml", strings.HasSuffix)) > 0 || len(having(o.sizes, "g", strings.HasSuffix)) > 0 {
		return "", false
	}
	value := func(s string) decimal.Decimal { return decimal.RequireFromString(strings.TrimSuffix(s, "ml")) }
	for _, f := range t.fluid {
		for _, v := range b {
			if x, y := value(f), value(v); x.Sub(y).Abs().Mul(decimal.NewFromInt(100)).LessThanOrEqual(y) {
				return "", false
			}
		}
	}
	return "sizes " + strings.Join(t.fluid, " ") + " (fl oz) / " + strings.Join(b, " "), true
}

// sizeKinds are the suffixes units.Size writes for each kind of size.
var sizeKinds = []string{"g", "ml", "ea"}

// having returns the values that have the affix.
func having(vs []string, affix string, has func(s, affix string) bool) []string {
	var out []string
	for _, v := range vs {
		if has(v, affix) {
			out = append(out, v)
		}
	}
	return out
}

// sizeKey is what sets apart the key of an item whose key, sizes dropped,
// another item of another size already has: " @453.59237g". No key holds
// "@" otherwise. A few sizes set an item apart; keys must stay short for
// the database's index.
func (t traits) sizeKey() string {
	if len(t.sizes) == 0 {
		return ""
	}
	return " @" + strings.Join(t.sizes[:min(len(t.sizes), 4)], " @")
}

// baseKey is a key without what sizeKey added to it.
func baseKey(key string) string {
	if i := strings.Index(key, " @"); i >= 0 {
		return key[:i]
	}
	return key
}

// Keys lists the keys an item named name may be stored under, the likelier
// first: with its sizes, when another item of another size took its key,
// and without.
func Keys(name string) []string {
	d := describe(name)
	if sk := d.sizeKey; sk != "" {
		return []string{d.key + sk, d.key}
	}
	return []string{d.key}
}

// Conflict says whether two names are of products that never match: sizes,
// numbers or qualifiers of one kind that differ.
func Conflict(a, b string) bool {
	ta, tb := traitsOf(a), traitsOf(b)
	_, c := ta.conflicts(tb)
	return c
}

// DescriptionKey is the key a description's mappings are stored under: its
// normalized form, with its sizes when it states any.
func DescriptionKey(description string) string {
	d := describe(description)
	return d.key + d.sizeKey
}

// Vocabulary is this version of the vocabulary, as the store re-keys with
// it (store.Normalizer).
type Vocabulary struct{}

// Version is Version().
func (Vocabulary) Version() int { return Version() }

// ItemKey is the key an item named name has under this vocabulary, old
// being its key before: an item whose key held its sizes (beside another
// item of another size) keeps them.
func (Vocabulary) ItemKey(name, old string) string {
	d := describe(name)
	if i := strings.Index(old, " @"); i >= 0 {
		if d.sizeKey != "" {
			return d.key + d.sizeKey
		}
		return d.key + old[i:]
	}
	return d.key
}

// DescriptionKey is the key a description stored under old (by another
// version of the vocabulary) has under this one: its words normalized
// again, its sizes kept. What the old vocabulary dropped from a description
// is lost to it.
func (Vocabulary) DescriptionKey(old string) string {
	base, sizes := old, ""
	if i := strings.Index(old, " @"); i >= 0 {
		base, sizes = old[:i], old[i:]
	}
	return Normalize(base) + sizes
}
