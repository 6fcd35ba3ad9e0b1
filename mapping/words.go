package mapping

import "strings"

// Steps 4 and 5 of Normalize: filler words, abbreviations, synonyms,
// compounds and plurals.

// rewriteWords drops filler words, expands phrases and abbreviations and
// makes plurals singular.
func rewriteWords(in []string) []string {
	out := make([]string, 0, len(in))
	for i := 0; i < len(in); i++ {
		if i+1 < len(in) {
			if exp, ok := phrases[[2]string{in[i], in[i+1]}]; ok {
				out = append(out, exp...)
				i++
				continue
			}
		}
		w := in[i]
		if stopWords[w] {
			continue
		}
		out = append(out, canonicalWord(w)...)
	}
	return out
}

// canonicalWord maps one word to its canonical spelling: an abbreviation or
// synonym is expanded (possibly to several words), else a plural becomes
// singular; an abbreviation in the plural ("toms", "chkns") is expanded too.
func canonicalWord(w string) []string {
	if exp, ok := abbreviations[w]; ok {
		return strings.Fields(exp)
	}
	s := singular(w)
	if exp, ok := abbreviations[s]; ok {
		return strings.Fields(exp)
	}
	return []string{s}
}

// singular strips the endings of regular English plurals. It is deliberately
// simple: a wrong stem is harmless as long as singular and plural forms of the
// same word agree, so the rules only need to be consistent on the vocabulary
// of invoices.
func singular(w string) string {
	n := len(w)
	if n < 4 || w[n-1] != 's' || !isASCIILower(w) {
		return w
	}
	if s, ok := irregularPlurals[w]; ok {
		return s
	}
	switch {
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w // swiss, asparagus, hummus, tennis: not plurals
	case strings.HasSuffix(w, "ies"):
		if ieWords[w[:n-1]] || n <= 4 {
			return w[:n-1] // cookies -> cookie, pies -> pie
		}
		return w[:n-3] + "y" // cherries -> cherry
	case strings.HasSuffix(w, "oes"):
		return w[:n-2] // tomatoes -> tomato
	case strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"),
		strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zes"):
		if eWords[w[:n-1]] {
			return w[:n-1] // quiches -> quiche
		}
		return w[:n-2] // peaches -> peach, boxes -> box
	}
	return w[:n-1]
}

func isASCIILower(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// irregularPlurals are the "-ves" plurals of "-f" words; other "-ves" words
// are regular (olives, chives).
var irregularPlurals = map[string]string{
	"leaves": "leaf", "halves": "half", "loaves": "loaf", "knives": "knife",
	"shelves": "shelf", "calves": "calf",
}

// ieWords are singulars ending in "ie", whose plural "-ies" must not become "-y".
var ieWords = set("cookie", "brownie", "veggie", "smoothie", "hoagie", "pierogie",
	"calorie", "pie", "tie", "rotisserie", "birdie", "sweetie")

// eWords are singulars ending in "che", "she", "xe" or "ze", whose plural loses
// only the "s".
var eWords = set("quiche", "brioche", "ganache", "cache", "niche", "panache",
	"creme", "douche", "axe", "ounce")

// stopWords carry no meaning in a product description. "fresh" is among
// them because it is the default state of an item: it is the marked forms
// ("frozen", "dried", "canned") that tell items apart.
var stopWords = set("a", "an", "and", "of", "the", "with", "w", "per", "for", "n",
	"approx", "approximately", "avg", "fresh", "frsh")

// phrases are two-word abbreviations, as left by the tokenizer ("b/s",
// "p&d", "x-large").
var phrases = map[[2]string][]string{
	{"b", "s"}:         {"boneless", "skinless"},
	{"p", "d"}:         {"peeled", "deveined"},
	{"x", "large"}:     {"xl"},
	{"x", "lg"}:        {"xl"},
	{"extra", "lg"}:    {"xl"},
	{"extra", "large"}: {"xl"},
	{"fat", "free"}:    {"skim"},
	{"skin", "off"}:    {"skinless"},
	{"non", "fat"}:     {"skim"},
	{"low", "fat"}:     {"lowfat"},
	// compounds written apart
	{"cole", "slaw"}:   {"coleslaw"},
	{"corn", "starch"}: {"cornstarch"},
	{"corn", "meal"}:   {"cornmeal"},
	{"butter", "milk"}: {"buttermilk"},
	{"egg", "plant"}:   {"eggplant"},
	{"water", "melon"}: {"watermelon"},
}

// abbreviations maps invoice abbreviations and variant spellings to one
// canonical spelling. Values are canonical: they are themselves neither keys
// nor plurals (a test checks this, which keeps Normalize idempotent).
var abbreviations = map[string]string{
	// poultry and meat
	"chkn": "chicken", "chk": "chicken", "ckn": "chicken", "chix": "chicken",
	"brst": "breast", "thgh": "thigh", "wng": "wing",
	"drmstk": "drumstick", "drumstk": "drumstick",
	"bnls": "boneless", "bnl": "boneless", "bls": "boneless",
	"sknls": "skinless", "skls": "skinless", "sknl": "skinless",
	"bf": "beef", "grnd": "ground", "grd": "ground", "prk": "pork",
	"tky": "turkey", "trky": "turkey", "bcn": "bacon", "saus": "sausage", "ssg": "sausage",
	"pty": "patty", "ptty": "patty", "smkd": "smoked", "ny": "new york",
	// dairy
	"mlk": "milk", "crm": "cream", "hvy": "heavy", "whp": "whipping",
	"chs": "cheese", "chz": "cheese", "mozz": "mozzarella", "moz": "mozzarella",
	"parm": "parmesan", "ched": "cheddar", "chdr": "cheddar", "amer": "american",
	"prov": "provolone", "bttr": "butter", "btr": "butter",
	"unsltd": "unsalted", "unslt": "unsalted", "sltd": "salted",
	"nonfat": "skim", "yog": "yogurt", "ygrt": "yogurt", "lmps": "low moisture part skim",
	// produce
	"tom": "tomato", "tmto": "tomato", "rom": "romaine",
	"let": "lettuce", "lett": "lettuce", "ltc": "lettuce",
	"mush": "mushroom", "mshrm": "mushroom", "mushrm": "mushroom",
	"avo": "avocado", "avoc": "avocado", "broc": "broccoli", "brocc": "broccoli",
	"caul": "cauliflower", "cauli": "cauliflower", "cuke": "cucumber",
	"zuc": "zucchini", "zucc": "zucchini", "jal": "jalapeno", "jalap": "jalapeno",
	"cil": "cilantro", "garl": "garlic", "grlc": "garlic",
	"lmn": "lemon", "orng": "orange", "strawb": "strawberry", "strwbry": "strawberry",
	"blueb": "blueberry", "rasp": "raspberry", "portabella": "portobello", "portobella": "portobello",
	"yel": "yellow", "ylw": "yellow", "yllw": "yellow", "grn": "green", "wht": "white",
	"blk": "black", "brn": "brown", "org": "organic", "orgc": "organic",
	"frz": "frozen", "frzn": "frozen", "fzn": "frozen",
	// preparation
	"shrd": "shredded", "shred": "shredded", "shrdd": "shredded",
	"slcd": "sliced", "slc": "sliced", "sli": "sliced", "dcd": "diced", "chpd": "chopped",
	"brd": "breaded", "bttrd": "battered", "fc": "fully cooked",
	"pwd": "powder", "pwdr": "powder", "pdr": "powder", "gran": "granulated",
	"asst": "assorted", "astd": "assorted", "reg": "regular",
	// dry goods, sauces
	"flr": "flour", "sug": "sugar", "sgr": "sugar", "ap": "all purpose",
	"evoo": "extra virgin olive oil", "veg": "vegetable", "sce": "sauce",
	"mayo": "mayonnaise", "catsup": "ketchup", "choc": "chocolate", "vnla": "vanilla",
	"tort": "tortilla", "confectioner": "powdered", "lite": "light", "bleu": "blue", "spag": "spaghetti", "mac": "macaroni",
	"bbq": "barbecue", "oj": "orange juice",
	// sizes
	"lg": "large", "lrg": "large", "med": "medium", "md": "medium",
	"sm": "small", "sml": "small", "xlg": "xl", "xlarge": "xl",
	// disposables and cleaning
	"pf": "powder free", "quat": "quaternary",
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
