package mapping

// Step 3 of Normalize: pack sizes, units and packaging.

// dropPackSizes removes sizes, units and packaging from the token stream and
// returns the remaining words and numbers as plain strings.
func dropPackSizes(toks []token) []string {
	drop := make([]bool, len(toks))
	isNum := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == tokNumber }
	isSym := func(i int, s string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == tokSymbol && toks[i].text == s
	}
	isWord := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == tokWord }
	isTimes := func(i int) bool { return isWord(i) && toks[i].text == "x" }
	// dropMultiplier removes what multiplies or prefixes a dropped size
	// whose first token is at i: "12 x" in "12 x 500 ml", "4 /" in
	// "4/1 gal", "2.5 -" in "2.5-3 lb", "1 1 /" in "1 1/2 gal" (a mixed
	// fraction).
	dropMultiplier := func(i int) {
		for {
			switch {
			case (isSym(i-1, "/") || isSym(i-1, "-") || isTimes(i-1)) && isNum(i-2):
				drop[i-1], drop[i-2] = true, true
				i -= 2
			case isNum(i-1) && isNum(i) && isSym(i+1, "/") && !isSym(i-2, "/") && !isSym(i-2, "-"):
				drop[i-1] = true
				i--
			default:
				return
			}
		}
	}
	// dropSize removes the two-token size at i, what multiplies it, and a
	// container named right after it ("#10 can", "5 gal pail"): the size
	// already says how the goods are packed. It returns the last index
	// dropped.
	dropSize := func(i int) int {
		drop[i], drop[i+1] = true, true
		dropMultiplier(i)
		if isWord(i+2) && containerWords[toks[i+2].text] {
			drop[i+2] = true
			return i + 2
		}
		return i + 1
	}
	var pct []int // numbers followed by % or "percent": kept as "2pct"
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == tokNumber && (isSym(i+1, "%") || isWord(i+1) && percentWords[toks[i+1].text]):
			pct = append(pct, i)
			drop[i+1] = true
			i++
		case t.kind == tokNumber && isWord(i+1) && lengthUnits[toks[i+1].text]:
			// A length names the item: keep the number, drop the unit.
			drop[i+1] = true
			i++
		case t.kind == tokNumber && (isSym(i+1, "#") || isWord(i+1) && (measureUnits[toks[i+1].text] ||
			shortUnits[toks[i+1].text] || packWords[toks[i+1].text] || countUnits[toks[i+1].text])):
			// "25 lb", "5#", "24 ct", "16 cut": a quantity with its unit.
			i = dropSize(i)
		case isSym(i, "#") && isNum(i+1):
			// "#10": a can size.
			i = dropSize(i)
		case isSym(i, "$") && isNum(i+1):
			// "$12.99": a price ("/kg" after it goes as a price basis).
			drop[i+1] = true
			i++
		case (isSym(i, "/") || t.kind == tokWord && t.text == "per") && isWord(i+1) &&
			(measureUnits[toks[i+1].text] || shortUnits[toks[i+1].text] || packWords[toks[i+1].text]):
			// "/lb", "per kg", "/cs": a price basis.
			drop[i], drop[i+1] = true, true
			i++
		}
	}
	for _, i := range pct {
		toks[i] = token{tokWord, toks[i].text + "pct"}
		drop[i] = false
	}
	words := make([]string, 0, len(toks))
	for i, t := range toks {
		if drop[i] || t.kind == tokSymbol {
			continue
		}
		// "x" between two numbers is a multiplication sign ("5x6" tomatoes,
		// `18" x 500'` foil).
		if isTimes(i) && (isNum(i-1) || isWord(i-1) && lengthUnits[toks[i-1].text] && isNum(i-2)) && isNum(i+1) {
			continue
		}
		if t.kind == tokWord && (measureUnits[t.text] || packWords[t.text] || lengthUnits[t.text] && isNum(i-1)) {
			continue
		}
		words = append(words, t.text)
	}
	return words
}
