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
	packInText = regexp.MustCompile(`(?:(\d+(?:\.\d+)?)\s*[/x]\s*)?(?:(#10)|(\d+(?:\.\d+)?)\s*(#|lbs?|oz|kgs?|kilos?|gal|g|qt|pt|ltr|l|ml|count|ct|ea|dz|doz))`)
)

// inText finds the sizes in a lower-cased description, each standing
// alone: not inside a longer number or word.
func inText(d string) [][]string {
	var out [][]string
	for _, ix := range packInText.FindAllStringSubmatchIndex(d, -1) {
		start, end := ix[0], ix[1]
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
		if ok && (m[1] != "" || DimensionOf(p.Unit) != Volume) {
			ps = append(ps, p)
		}
	}
	return ps
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
