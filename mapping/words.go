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

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
