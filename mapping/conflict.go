package mapping

import (
	"slices"
	"strings"

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
//     agrees with 1 gal and with 4 gal, 4/10 lb with 40 lb.
//   - Numbers that differ: "Ground Beef 80/20" and "90/10", "Shrimp 16/20"
//     and "21/25", "Pinot Grigio 2022" and "2023", "2% Milk" and "1% Milk".
//   - Qualifiers of one kind that differ: skin on/off, bone-in/boneless,
//     salted/unsalted, whole/skim/low fat, diet/zero, sweetened/unsweetened,
//     raw/cooked, seeded/seedless, caffeinated/decaf, and colours (red,
//     yellow, green, ...).
//
// A description that does not state a size, a number or a qualifier of a
// kind may still match one that does: "Roma Tomatoes" matches "Roma
// Tomatoes 25lb", "Ground Beef" matches "Ground Beef 80/20".
type traits struct {
	sizes map[units.Dimension][]string // distinct values of each kind, sorted: two agree if they share one
	nums  []string                     // the numbers of the key, sorted
	quals map[string]string            // qualifier kind to its label(s)
}

// qualifiers maps a word, or two words in a row, as Normalize spells them,
// to its kind and label. Two descriptions whose labels of one kind differ
// are different items.
var qualifiers = map[string][2]string{
	"skin on": {"skin", "on"}, "skin off": {"skin", "off"}, "skinless": {"skin", "off"},
	"bone in": {"bone", "in"}, "bonein": {"bone", "in"}, "boneless": {"bone", "out"},
	"salted": {"salt", "salted"}, "unsalted": {"salt", "unsalted"},
	"whole": {"fat", "whole"}, "skim": {"fat", "skim"}, "lowfat": {"fat", "low"},
	"diet": {"sugar", "diet"}, "zero": {"sugar", "zero"},
	"sweetened": {"sweetened", "yes"}, "unsweetened": {"sweetened", "no"},
	"raw": {"cooked", "no"}, "cooked": {"cooked", "yes"},
	"seeded": {"seeds", "yes"}, "seedless": {"seeds", "no"},
	"caffeinated": {"caffeine", "yes"}, "decaf": {"caffeine", "no"}, "decaffeinated": {"caffeine", "no"},
	"red": {"colour", "red"}, "yellow": {"colour", "yellow"}, "green": {"colour", "green"},
	"white": {"colour", "white"}, "orange": {"colour", "orange"}, "purple": {"colour", "purple"},
	"brown": {"colour", "brown"}, "black": {"colour", "black"}, "gold": {"colour", "gold"},
	"golden": {"colour", "gold"},
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
			if t.quals == nil {
				t.quals = map[string]string{}
			}
			t.quals[q[0]] = joinLabel(t.quals[q[0]], q[1])
		}
	}
	slices.Sort(t.nums)
	for _, s := range units.Sizes(folded) {
		if t.sizes == nil {
			t.sizes = map[units.Dimension][]string{}
		}
		t.sizes[s.Dim] = append(t.sizes[s.Dim], s.String())
	}
	for d, vs := range t.sizes {
		slices.Sort(vs)
		t.sizes[d] = slices.Compact(vs)
	}
	return t
}

// joinLabel adds a label to those of a kind ("red+yellow" peppers).
func joinLabel(labels, l string) string {
	if labels == "" {
		return l
	}
	ls := strings.Split(labels, "+")
	if !slices.Contains(ls, l) {
		ls = append(ls, l)
		slices.Sort(ls)
	}
	return strings.Join(ls, "+")
}

// conflicts says whether two descriptions are different items by their
// traits, and why.
func (t traits) conflicts(o traits) (string, bool) {
	if len(t.nums) > 0 && len(o.nums) > 0 && !slices.Equal(t.nums, o.nums) {
		return "numbers " + strings.Join(t.nums, " ") + " / " + strings.Join(o.nums, " "), true
	}
	for d, vs := range t.sizes {
		if ws, ok := o.sizes[d]; ok && !slices.ContainsFunc(vs, func(v string) bool { return slices.Contains(ws, v) }) {
			return "sizes " + strings.Join(vs, " ") + " / " + strings.Join(ws, " "), true
		}
	}
	for k, l := range t.quals {
		if m, ok := o.quals[k]; ok && l != m {
			return k + " " + l + " / " + m, true
		}
	}
	return "", false
}

// sizeKey is what sets apart the key of an item whose key, sizes dropped,
// another item of another size already has: " @453.59237g". No key holds
// "@" otherwise.
func (t traits) sizeKey() string {
	if len(t.sizes) == 0 {
		return ""
	}
	var parts []string
	for _, vs := range t.sizes {
		parts = append(parts, vs...)
	}
	slices.Sort(parts)
	// A few sizes set an item apart; keys must stay short for the index.
	return " @" + strings.Join(parts[:min(len(parts), 4)], " @")
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
	if sk := d.traits.sizeKey(); sk != "" {
		return []string{d.key + sk, d.key}
	}
	return []string{d.key}
}

// DescriptionKey is the key a description's mappings are stored under: its
// normalized form, with its sizes when it states any.
func DescriptionKey(description string) string {
	d := describe(description)
	return d.key + d.traits.sizeKey()
}
