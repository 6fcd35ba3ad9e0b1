// Normalization of item names, invoice descriptions and vendor names: the
// rules are documented on Normalize.

package mapping

import (
	"slices"
	"strings"
	"unicode"

	"github.com/batchimport/batchimport/units"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns the key under which item names and invoice descriptions
// are compared: two descriptions of the same inventory item should normalize
// to the same string, and descriptions of different items should not. It
// applies, in order:
//
//  1. Folding: Unicode NFKC (compatibility forms such as "ﬁ", "½" or
//     full-width letters become their plain equivalents), lower case, and
//     accents removed from Latin letters ("Jalapeño" and "jalapeno" are one
//     word on invoices typed on different keyboards).
//  2. Tokenizing: words are runs of letters, numbers runs of digits ("1.5"
//     and "1,000" are one number each, read as 1.5 and 1000, "1,5" as 1.5:
//     units.ReadNumber); a letter-digit boundary splits
//     ("12x500ml" is 12, x, 500, ml). An apostrophe inside a word is dropped
//     ("Hellmann's" is "hellmanns"); all other punctuation separates.
//  3. Pack sizes, which say how an item is bought rather than what it is,
//     are removed: a number with its unit ("25 lb", "500ml", "5#", "24 ct",
//     "6pk", "15 dz", "16 cut"), with what multiplies it ("12x500ml",
//     "4/1 gal", "2.5-3 lb", "1 1/2 gal") and a container named right after
//     it ("6/#10 can", "1 gal jug"); can sizes ("#10"); prices ("$12.99",
//     "per kg", "/lb"); and units and packaging words on their own ("lb",
//     "case", "cs", "ea", "bib"). Short units that are also ordinary words or
//     sizes ("l", "g", "pt", "cut") count only after a number, and container
//     words only after a size ("can liner" is an item). A length ("12 in",
//     `18"`) loses its unit but keeps its number: a 12-inch tortilla is not a
//     10-inch one. Other numbers stay, since they usually name the product
//     ("80/20" beef, "16/20" shrimp), and a percentage becomes one word ("2%
//     milk" is "2pct milk").
//  4. Filler words are dropped: and, with, of, the, per, approx, ... and
//     "fresh", the default state of an item: the marked forms ("frozen",
//     "dried") are what tell items apart, and they stay.
//  5. Invoice abbreviations are expanded ("chkn", "bnls", "tom", "b/s",
//     "p&d"), variant spellings and synonyms get one spelling ("catsup",
//     "bleu", "nonfat" and "fat free" as "skim", "x-large" as "xl"),
//     compounds written apart are joined ("corn starch", "cole slaw"), and
//     English plurals become singular ("tomatoes", "cherries", "peaches",
//     "leaves", but "cookies" to "cookie" and "swiss" as is). Words that tell
//     look-alike items apart (skim/whole, thigh/breast, cherry/roma) are never
//     rewritten into each other; an abbreviation is listed only when it is not
//     also a plausible distinct word ("rom" is romaine, "roma" stays).
//  6. Words are sorted, numbers last, so that "Milk, Whole" and "whole milk"
//     agree: word order on invoices is arbitrary ("TOMATO ROMA"). Steps 2-6
//     run again until the key no longer changes (sorting can bring together
//     a phrase, "STARCH, CORN"), so Normalize(Normalize(s)) == Normalize(s).
//
// If steps 3-5 remove every word (a description that is only a size, such as
// "12 x 500 ml"), the folded text without punctuation is the key, so that
// distinct descriptions never share the empty key.
//
// A consequence of step 3: descriptions that differ only in size ("Cups 12
// oz" and "Cups 16 oz") normalize alike; the conflict rules (conflict.go)
// keep them apart as items, and a description's mappings are stored under
// its key with its sizes (DescriptionKey).
func Normalize(s string) string {
	key := normalizeFolded(fold(s))
	// Sorting can make words adjacent that form a phrase ("Starch, Corn"
	// becomes "corn starch"); apply the rules again until nothing changes,
	// so that Normalize(Normalize(s)) == Normalize(s). In practice this takes
	// one more pass.
	for range 4 {
		next := normalizeFolded(key)
		if next == key {
			break
		}
		key = next
	}
	return key
}

// normalizeFolded applies the rules after folding once.
func normalizeFolded(folded string) string {
	words := rewriteWords(dropPackSizes(tokenize(folded)))
	if len(words) == 0 {
		return fallbackKey(folded)
	}
	// Numbers go last, so that no number is followed by a word that would
	// read as its unit the next time ("3/8 cut fries" is not "8 cut").
	slices.SortFunc(words, func(a, b string) int {
		if an, bn := isNumber(a), isNumber(b); an != bn {
			if an {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	return strings.Join(words, " ")
}

// isNumber says whether a word is a number token: digits, and points
// between them ("1.5": units.ReadNumber).
func isNumber(w string) bool {
	for i, r := range w {
		if !unicode.IsDigit(r) && (r != '.' || i == 0 || i == len(w)-1) {
			return false
		}
	}
	return w != ""
}

// NormalizeVendor returns the key under which a vendor's mappings are stored:
// NFKC with accents removed, lower case, punctuation and symbols removed,
// whitespace collapsed. Dashes, slashes and underscores separate words
// ("US-Foods" is "us foods"); other punctuation is deleted ("U.S. Foods" is
// "us foods", "Ben's" is "bens"). A name made only of punctuation keeps it, so
// that it never becomes the empty key.
func NormalizeVendor(s string) string {
	folded := fold(s)
	var b strings.Builder
	for _, r := range folded {
		switch {
		case isWordRune(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '/' || r == '_' || unicode.Is(unicode.Pd, r):
			b.WriteByte(' ')
		}
	}
	if out := strings.Join(strings.Fields(b.String()), " "); out != "" {
		return out
	}
	return strings.Join(strings.Fields(folded), " ")
}

// spaceFractions puts a space between a digit and a fraction character
// after it ("1½").
func spaceFractions(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is in b
	prev := rune(0)
	for i, r := range s {
		if unicode.IsDigit(prev) && unicode.Is(unicode.No, r) && strings.ContainsRune(norm.NFKD.String(string(r)), '\u2044') {
			b.WriteString(s[last:i])
			b.WriteByte(' ')
			last = i
		}
		prev = r
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// fold applies NFKC, lower case and removal of accents on Latin letters.
// Marks on other scripts are kept: there they are often part of the letter.
// A fraction character after a digit is set apart by a space, so that
// "1½" is "1 1⁄2", not "11⁄2".
func fold(s string) string {
	d := norm.NFKD.String(spaceFractions(s))
	var b strings.Builder
	b.Grow(len(d))
	latinBase := false
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if latinBase {
				continue
			}
		} else {
			latinBase = unicode.Is(unicode.Latin, r)
		}
		b.WriteRune(unicode.ToLower(r))
	}
	// NFKD split composed characters apart; compose what remains (Hangul,
	// scripts whose marks we kept) so that the result is in NFKC.
	return norm.NFC.String(b.String())
}

// fallbackKey is the key of a description whose every word is noise: the
// folded text with punctuation turned into spaces, or, when that leaves
// nothing, the folded text itself with whitespace collapsed.
func fallbackKey(folded string) string {
	f := strings.FieldsFunc(folded, func(r rune) bool {
		return !isWordRune(r) && !unicode.IsDigit(r)
	})
	if len(f) > 0 {
		return strings.Join(f, " ")
	}
	return strings.Join(strings.Fields(folded), " ")
}

type tokKind uint8

const (
	tokWord   tokKind = iota // letters
	tokNumber                // digits and decimal points (units.ReadNumber)
	tokSymbol                // one of # % / - $, kept for the pack-size rules
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits folded text into words, numbers and the few symbols that
// the pack-size rules need.
func tokenize(s string) []token {
	rs := []rune(s)
	var toks []token
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsLetter(r):
			var b strings.Builder
			for i < len(rs) {
				if isWordRune(rs[i]) {
					b.WriteRune(rs[i])
					i++
					continue
				}
				// An apostrophe between letters joins them: "hellmann's".
				if isApostrophe(rs[i]) && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) && b.Len() > 0 {
					i++
					continue
				}
				break
			}
			toks = append(toks, token{tokWord, b.String()})
		case unicode.IsDigit(r):
			var b strings.Builder
			for i < len(rs) {
				if unicode.IsDigit(rs[i]) {
					b.WriteRune(rs[i])
					i++
					continue
				}
				// A decimal point or thousands separator between digits
				// belongs to the number: "1.5", "1,000".
				if (rs[i] == '.' || rs[i] == ',') && i+1 < len(rs) && unicode.IsDigit(rs[i+1]) {
					b.WriteRune(rs[i])
					i++
					continue
				}
				break
			}
			n, _ := units.ReadNumber(b.String())
			toks = append(toks, token{tokNumber, n})
		default:
			switch r {
			case '#', '%':
				toks = append(toks, token{tokSymbol, string(r)})
			case '$', '\u00a3', '\u20ac': // a price: "$12.99/kg"
				toks = append(toks, token{tokSymbol, "$"})
			case '/', '\u2044', '\u2215': // slash, fraction slash, division slash
				toks = append(toks, token{tokSymbol, "/"})
			case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '~':
				// A dash between numbers is a range ("2.5-3 lb"); elsewhere
				// it only separates words ("bone-in", "12-ct").
				if len(toks) > 0 && toks[len(toks)-1].kind == tokNumber && nextIsDigit(rs, i+1) {
					toks = append(toks, token{tokSymbol, "-"})
				}
			case '*', '\u00d7': // "12*500ml", "12×500ml"
				toks = append(toks, token{tokWord, "x"})
			case '"', '\u2033': // inch marks
				toks = append(toks, token{tokWord, "in"})
			}
			i++
		}
	}
	return toks
}

// nextIsDigit reports whether the first non-space rune from i on is a digit.
func nextIsDigit(rs []rune, i int) bool {
	for ; i < len(rs) && rs[i] == ' '; i++ {
	}
	return i < len(rs) && unicode.IsDigit(rs[i])
}

// isWordRune reports whether r continues a word: a letter, or a mark that
// fold kept because it belongs to a non-Latin letter.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r)
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u02bc' || r == '`'
}
