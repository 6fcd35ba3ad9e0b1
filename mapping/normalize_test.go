package mapping

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		// Folding: NFKC, case, accents, whitespace, punctuation, word order.
		{"Whole Milk", "milk whole"},
		{"  WHOLE   milk ", "milk whole"},
		{"Milk, Whole", "milk whole"},
		{"whole-milk!!!", "milk whole"},
		{"Ｗｈｏｌｅ\u3000Ｍｉｌｋ", "milk whole"}, // full-width letters and space
		{"Jalapeño Peppers", "jalapeno pepper"},
		{"Jalapen\u0303o Peppers", "jalapeno pepper"}, // decomposed ñ
		{"CRÈME FRAÎCHE", "creme fraiche"},
		{"ﬁlet", "filet"}, // ligature
		{"Hellmann's Mayo", "hellmann mayonnaise"},
		{"Ben’s Rice", "ben rice"},
		{"日本語", "日本語"},
		{"हिन्दी", "हिन्दी"}, // marks of non-Latin scripts stay

		// Pack sizes and units.
		{"Chicken Breast 40 lb", "breast chicken"},
		{"Chicken Breast 40lb", "breast chicken"},
		{"Chicken Breast 4/10#", "breast chicken"},
		{"Chicken Breast 4 x 10 lb", "breast chicken"},
		{"Chicken Breast 2.5-3 lb", "breast chicken"},
		{"Chicken Breast CS", "breast chicken"},
		{"Water 12x500ml", "water"},
		{"Water 12 × 500 ml", "water"},
		{"Water 24/16.9 fl oz", "water"},
		{"Milk 1 1/2 gal", "milk"},
		{"Butter 36/1 lb case", "butter"},
		{"Eggs 15 dz", "egg"},
		{"Napkins 3000 ct", "napkin"},
		{"Soda 6pk", "soda"},
		{"Lemons ea", "lemon"},
		{"Lemons each", "lemon"},
		{"Cola Syrup BIB", "cola syrup"},
		{"Cucumbers 1 1/9 bu", "cucumber"},
		{"Cheesecake 16 cut", "cheesecake"},
		{"Crinkle Cut Fries", "crinkle cut fry"}, // "cut" is a unit only after a number
		{"Tomato Paste 6/#10 can", "paste tomato"},
		{"Ketchup #10", "ketchup"},
		{"Ketchup 1 gal jug", "ketchup"},
		{"Can Liner Clear", "can clear liner"}, // a container word names the item here
		{"Salmon per lb", "salmon"},
		{"Salmon /lb", "salmon"},
		{"Salmon $12.99/kg", "salmon"},
		{"Gloves Nitrile L", "glove l nitrile"}, // "l" is a size here, not litres
		{"Gloves Nitrile 1 L", "glove nitrile"},

		// Numbers that name the item stay.
		{"Flour Tortillas 12\"", "flour tortilla 12"},
		{"Flour Tortillas 12 in", "flour tortilla 12"},
		{"Flour Tortillas 12 inch", "flour tortilla 12"},
		{"Foil 18\" x 500'", "foil 18 500"},
		{"Ground Beef 80/20", "beef ground 20 80"},
		{"Ground Beef 80/20 4/10#", "beef ground 20 80"},
		{"Shrimp 16/20", "shrimp 16 20"},
		{"Tomatoes 5x6", "tomato 5 6"},
		{"2% Milk", "2pct milk"},
		{"Milk 2 %", "2pct milk"},
		{"2 percent milk", "2pct milk"},
		{"OJ 100%", "100pct juice orange"},

		// Filler words, abbreviations, synonyms, compounds.
		{"Half & Half", "half half"},
		{"half and half", "half half"},
		{"Mac n Cheese", "cheese macaroni"},
		{"Chicken w/ Rice", "chicken rice"},
		{"Basil Fresh", "basil"},
		{"CHKN BRST BNLS SKNLS", "boneless breast chicken skinless"},
		{"Chicken B/S", "boneless chicken skinless"},
		{"Shrimp P&D", "deveined peeled shrimp"},
		{"TOM ROMA", "roma tomato"},
		{"toms roma", "roma tomato"},
		{"EVOO", "extra oil olive virgin"},
		{"Flour AP", "all flour purpose"},
		{"Eggs XL", "egg xl"},
		{"Eggs X-Large", "egg xl"},
		{"Eggs Extra Large", "egg xl"},
		{"Eggs Lg", "egg large"},
		{"CHEESE AMER SLI", "american cheese sliced"},
		{"Tenders BRD FC", "breaded cooked fully tender"},
		{"Gloves PF", "free glove powder"},
		{"Catsup", "ketchup"},
		{"Bleu Cheese", "blue cheese"},
		{"Milk Nonfat", "milk skim"},
		{"Milk Fat Free", "milk skim"},
		{"Yogurt Low Fat", "lowfat yogurt"},
		{"Cole Slaw", "coleslaw"},
		{"Corn Starch", "cornstarch"},

		// Plurals.
		{"Tomatoes", "tomato"},
		{"Cherries", "cherry"},
		{"Cookies", "cookie"},
		{"Pies", "pie"},
		{"Peaches", "peach"},
		{"Quiches", "quiche"},
		{"Boxes", "box"},
		{"Glasses", "glass"},
		{"Bay Leaves", "bay leaf"},
		{"Olives", "olive"},
		{"Wings", "wing"},
		{"Swiss", "swiss"},
		{"Asparagus", "asparagus"},
		{"Hummus", "hummus"},

		// Nothing but noise: the plain folded text, never empty.
		{"12 x 500 ml", "12 x 500 ml"},
		{"1 lb", "1 lb"},
		{"#10", "10"},
		{"!!!", "!!!"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Words that tell look-alike items apart must survive normalization.
func TestNormalizeKeepsLookAlikesApart(t *testing.T) {
	pairs := [][2]string{
		{"Skim Milk 1 gal", "Whole Milk 1 gal"},
		{"1% Milk", "2% Milk"},
		{"Chicken Thighs Boneless", "Chicken Breast Boneless"},
		{"Chicken Wings", "Chicken Drumsticks"},
		{"Cherry Tomatoes", "Roma Tomatoes"},
		{"Grape Tomatoes", "Cherry Tomatoes"},
		{"Romaine Hearts", "Roma Tomatoes"},
		{"Butter Salted", "Butter Unsalted"},
		{"Chicken Thighs Bone-In", "Chicken Thighs Boneless"},
		{"Ground Beef 80/20", "Ground Beef 90/10"},
		{"Shrimp 16/20", "Shrimp 21/25"},
		{"Flour Tortillas 10\"", "Flour Tortillas 12\""},
		{"Eggs XL", "Eggs Large"},
		{"Whipped Cream", "Whipping Cream"},
		{"Spinach Frozen", "Spinach"},
		{"Milk 1.5%", "Milk 15%"},
		{"Cream Liqueur 2.0", "Cream Liqueur 20"},
		{"Cups 1.000,5", "Cups 1.0005"},
	}
	for _, p := range pairs {
		if a, b := Normalize(p[0]), Normalize(p[1]); a == b {
			t.Errorf("Normalize(%q) == Normalize(%q) == %q", p[0], p[1], a)
		}
	}
}

func TestNormalizeIsIdempotent(t *testing.T) {
	inputs := []string{"Shrimp 16/20 P&D", "2% Milk 4/1 gal", "12 x 500 ml", "!!!", "Flour Tortillas 12\"",
		"Tomatoes 5x6", "EVOO 3 L", "Eggs X-Large 15 dz", "Hellmann's", "hello 2 g",
		"Milk 1.5%", "Cream Liqueur 2.0", "Cups 1,000", "Flour 1.000,5", "Lot 1.2.3", "1,5"}
	for _, it := range loadCatalogue(t) {
		inputs = append(inputs, it.Name)
	}
	for _, l := range loadLines(t) {
		inputs = append(inputs, l.Description)
	}
	for _, in := range inputs {
		once := Normalize(in)
		if twice := Normalize(once); twice != once {
			t.Errorf("Normalize(%q) = %q, but Normalize(%q) = %q", in, once, once, twice)
		}
	}
}

// The expansions must be canonical themselves, or normalizing twice would
// rewrite them again.
func TestAbbreviationsAreCanonical(t *testing.T) {
	check := func(from, to string) {
		for _, w := range strings.Fields(to) {
			if _, ok := abbreviations[w]; ok {
				t.Errorf("%q expands to %q, which is itself an abbreviation", from, w)
			}
			if singular(w) != w {
				t.Errorf("%q expands to %q, which is a plural", from, w)
			}
			if stopWords[w] || measureUnits[w] || packWords[w] {
				t.Errorf("%q expands to %q, which normalization drops", from, w)
			}
		}
	}
	for from, to := range abbreviations {
		check(from, to)
	}
	for from, to := range phrases {
		check(from[0]+" "+from[1], strings.Join(to, " "))
	}
}

func TestNormalizeVendor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Sysco", "sysco"},
		{" US  Foods ", "us foods"},
		{"U.S. Foods", "us foods"},
		{"US-Foods", "us foods"},
		{"Ben's Produce", "bens produce"},
		{"Nestlé", "nestle"},
		{"Ｓｙｓｃｏ", "sysco"},
		{"A&B Produce, Inc.", "ab produce inc"},
		{"Smith / Sons", "smith sons"},
		{"Valley Dairy Co-op", "valley dairy co op"},
		{"日本 食品", "日本 食品"},
		{"!!!", "!!!"},
	}
	for _, tt := range tests {
		if got := NormalizeVendor(tt.in); got != tt.want {
			t.Errorf("NormalizeVendor(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := NormalizeVendor(tt.want); got != tt.want {
			t.Errorf("NormalizeVendor is not idempotent on %q: %q", tt.want, got)
		}
	}
}
