package invoice

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// ValueFormat is how an input writes dates and numbers (SPEC §15): the
// contract's YYYY-MM-DD and 12.5 when zero.
type ValueFormat struct {
	// Date is the --date-format pattern (YYYY, MM and DD, with separators
	// among - . / and space), "" for YYYY-MM-DD; layout is its Go layout.
	Date   string
	layout string
	// Decimal is the decimal separator: '.' (also when zero) or ','.
	Decimal byte
	// Thousands is the thousands separator: 0 for none, or one of , . ' and
	// space. Digits between separators come in threes.
	Thousands byte
}

// NewValueFormat checks the settings of --date-format,
// --decimal-separator and --thousands-separator ("NONE" or "" for none).
func NewValueFormat(date, decimal, thousands string) (ValueFormat, error) {
	f := ValueFormat{Date: strings.ToUpper(strings.TrimSpace(date))}
	if f.Date != "" && !strings.EqualFold(f.Date, "YYYY-MM-DD") {
		layout, err := dateLayout(f.Date)
		if err != nil {
			return f, err
		}
		f.layout = layout
	}
	switch decimal {
	case "", ".":
		f.Decimal = '.'
	case ",":
		f.Decimal = ','
	default:
		return f, fmt.Errorf("--decimal-separator %q: want . or ,", decimal)
	}
	switch thousands {
	case "", "NONE", "none":
	case ",", ".", "'", " ":
		f.Thousands = thousands[0]
	default:
		return f, fmt.Errorf("--thousands-separator %q: want NONE, a comma, a point, an apostrophe or a space", thousands)
	}
	if f.Thousands == f.Decimal {
		return f, fmt.Errorf("--thousands-separator %q is the decimal separator too", thousands)
	}
	return f, nil
}

// dateLayout turns a pattern such as MM/DD/YYYY into a Go layout. Months
// and days of one digit are read too, unless nothing separates the parts.
func dateLayout(pattern string) (string, error) {
	separated := strings.ContainsAny(pattern, "-./ ")
	month, day := "1", "2"
	if !separated {
		month, day = "01", "02"
	}
	var b strings.Builder
	seen := map[string]bool{}
	for rest := pattern; rest != ""; {
		for _, tok := range []string{"YYYY", "MM", "DD"} {
			if strings.HasPrefix(rest, tok) && seen[tok] {
				return "", fmt.Errorf("--date-format %q: %s twice; want each of YYYY, MM and DD once", pattern, tok)
			}
		}
		switch {
		case strings.HasPrefix(rest, "YYYY"):
			b.WriteString("2006")
			seen["YYYY"], rest = true, rest[4:]
		case strings.HasPrefix(rest, "MM"):
			b.WriteString(month)
			seen["MM"], rest = true, rest[2:]
		case strings.HasPrefix(rest, "DD"):
			b.WriteString(day)
			seen["DD"], rest = true, rest[2:]
		case strings.ContainsRune("-./ ", rune(rest[0])):
			b.WriteByte(rest[0])
			rest = rest[1:]
		default:
			return "", fmt.Errorf("--date-format %q: want YYYY, MM and DD in some order, separated by - . / or a space, e.g. MM/DD/YYYY or DD.MM.YYYY", pattern)
		}
	}
	if len(seen) != 3 || len(b.String()) > 12 {
		return "", fmt.Errorf("--date-format %q: want each of YYYY, MM and DD once, e.g. MM/DD/YYYY or DD.MM.YYYY", pattern)
	}
	return b.String(), nil
}

// date reads an invoice date as YYYY-MM-DD. An ISO 8601 date-time (or a
// date followed by a time, as spreadsheets export) gives its date.
func (f ValueFormat) date(s string) (string, bool) {
	layout := f.layout
	if layout == "" {
		if isCalendarDate(s) {
			return s, true // the common case, without time.Parse
		}
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		i := strings.IndexAny(s, "T ")
		if i < 0 || !isTimeOfDay(s[i+1:]) {
			return "", false
		}
		if t, err = time.Parse(layout, s[:i]); err != nil {
			if isCalendarDate(s[:i]) {
				// An ISO 8601 date-time under another --date-format: its
				// date, year first, reads one way only.
				return s[:i], true
			}
			return "", false
		}
	}
	if t.Year() < 1 {
		return "", false // year 0 is no year of the calendar PostgreSQL keeps
	}
	return t.Format(time.DateOnly), true
}

// isCalendarDate says whether s is a real date written YYYY-MM-DD, from
// year 1 on, as time.Parse(time.DateOnly, s) would accept it and Format
// write it back.
func isCalendarDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	n := func(from, to int) int {
		v := 0
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return -1
			}
			v = 10*v + int(s[i]-'0')
		}
		return v
	}
	y, m, d := n(0, 4), n(5, 7), n(8, 10)
	if y < 1 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := 31
	switch m {
	case 4, 6, 9, 11:
		days = 30
	case 2:
		days = 28
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			days = 29
		}
	}
	return d <= days
}

// isTimeOfDay accepts what follows the date of an ISO 8601 date-time:
// hh:mm, optional seconds and fraction, an optional zone (Z, ±hh:mm), and
// a spreadsheet's " 12:00:00 AM". The time must be one of a day: a date
// followed by "99:99" is no date-time, and the date is not taken from it.
func isTimeOfDay(s string) bool {
	for _, layout := range timeLayouts {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// timeLayouts are the times of day isTimeOfDay accepts, as time.Parse
// reads them (a fraction of a second may follow the seconds in each), the
// commonest first.
var timeLayouts = []string{"15:04:05", "15:04:05Z07:00", "15:04", "15:04Z07:00", "3:04:05 PM", "3:04 PM",
	"15:04:05Z0700", "15:04:05Z07", "15:04Z0700", "15:04Z07"}

// currencySigns are the signs a unit price may carry, once.
var currencySigns = []string{"$", "€", "£"}

// number rewrites a number written in the input's format as the contract
// writes it (12.5), or returns ok false. With currency, one currency sign
// before or after the number (after a leading minus, too) is allowed. It
// allocates only to drop thousands separators or turn a decimal comma
// into a point, once: "1.229,46 €" took 209 ns and three allocations
// when it split, joined and concatenated, 130 ns now.
func (f ValueFormat) number(s string, currency bool) (string, bool) {
	if currency {
		s = stripCurrency(s)
	}
	if f.Thousands == 0 && f.Decimal != ',' {
		return s, true // the common case, left to isPlainDecimal
	}
	s = f.asciiThousands(s)
	whole := s
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, string(f.Decimal))
	grouped := f.Thousands != 0 && strings.IndexByte(intPart, f.Thousands) >= 0
	if grouped {
		// Groups of digits, three after the first, which has one to three
		// and no leading zero: "0.125" is no thousands, nor "1.5E3".
		rest, more := intPart, true
		for i := 0; more; i++ {
			var g string
			g, rest, more = strings.Cut(rest, string(f.Thousands))
			if (i == 0 && (len(g) < 1 || len(g) > 3 || g[0] == '0')) || (i > 0 && len(g) != 3) || strings.Trim(g, "0123456789") != "" {
				return "", false
			}
		}
	} else if strings.ContainsAny(intPart, ".,' ") {
		return "", false
	}
	if strings.ContainsAny(frac, ".,' ") {
		return "", false
	}
	if !grouped && (!hasFrac || f.Decimal == '.') {
		return whole, true // written as the contract writes it already
	}
	var b strings.Builder
	b.Grow(len(whole))
	b.WriteString(sign)
	for i := range len(intPart) {
		if c := intPart[i]; c != f.Thousands || !grouped {
			b.WriteByte(c)
		}
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String(), true
}

// otherSpaces are the spaces spreadsheets group thousands with besides
// ASCII's: one that does not break (Excel's French number format writes
// U+202F, others U+00A0), a thin and a figure space. Swiss formats write
// the typographic apostrophe.
const otherSpaces = "\u00a0\u202f\u2009\u2007"

var (
	spaceThousands      = spacesAsASCII()
	apostropheThousands = strings.NewReplacer("\u2019", "'")
)

func spacesAsASCII() *strings.Replacer {
	var pairs []string
	for _, r := range otherSpaces {
		pairs = append(pairs, string(r), " ")
	}
	return strings.NewReplacer(pairs...)
}

// asciiThousands writes the separators of spaceThousands or
// apostropheThousands as f's own, when f's is a space or an apostrophe.
func (f ValueFormat) asciiThousands(s string) string {
	if printableASCII(s) {
		return s
	}
	switch f.Thousands {
	case ' ':
		return spaceThousands.Replace(s)
	case '\'':
		return apostropheThousands.Replace(s)
	}
	return s
}

// groupedBySpace says whether v has digits on both sides of a space, or of
// one of otherSpaces.
func groupedBySpace(v string) bool {
	rs := []rune(v)
	for i := 1; i+1 < len(rs); i++ {
		if strings.ContainsRune(" "+otherSpaces, rs[i]) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
			return true
		}
	}
	return false
}

func stripCurrency(s string) string {
	sign, n := "", s
	if strings.HasPrefix(s, "-") {
		sign, n = "-", s[1:]
	}
	for _, c := range currencySigns {
		if rest, ok := strings.CutPrefix(n, c); ok {
			return sign + strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutSuffix(n, c); ok {
			return sign + strings.TrimSpace(rest)
		}
	}
	return s
}

// dateRule and numberRule say what a rejected date or number must be, and
// which setting reads another way of writing it.
func (f ValueFormat) dateRule(value string) string {
	if f.layout == "" {
		return "must be a real calendar date written YYYY-MM-DD (for another order, set --date-format, e.g. MM/DD/YYYY or DD.MM.YYYY)"
	}
	rule := "must be a real calendar date written " + f.Date + " (--date-format)"
	// "28/11/2026" read as MM/DD/YYYY: the file is DD/MM/YYYY, and its
	// dates that fit both (05/11/2026) went in as the wrong day.
	swapped := strings.NewReplacer("MM", "DD", "DD", "MM").Replace(f.Date)
	if layout, err := dateLayout(swapped); err == nil && swapped != f.Date {
		g := f
		g.layout = layout
		if _, ok := g.date(value); ok {
			rule += "; it reads as " + swapped + ": if the file is written so, dates before it that read both ways went in the wrong way round: revert the run (batchimport revert RUN) and import the file again with --date-format " + swapped
		}
	}
	return rule
}

func (f ValueFormat) numberRule(field, value string) string {
	example := "12.5"
	if f.Decimal == ',' {
		example = "12,5"
	}
	if field == FieldQuantity {
		example += " or -3" // a credit or return; a price is never negative
	}
	rule := "must be a decimal number such as " + example
	switch {
	case f.Thousands != ' ' && groupedBySpace(value):
		rule += " (for 1 089,50 set --thousands-separator ' ' --decimal-separator ,)"
	case f.Decimal == ',':
		rule += " (--decimal-separator ,)"
	case strings.ContainsAny(value, ",.'\u2019") && f.Thousands == 0:
		rule += " (for 1,089.00 set --thousands-separator ,; for 2,5 set --decimal-separator ,)"
	case field == FieldQuantity && (strings.HasPrefix(value, "(") && strings.HasSuffix(value, ")") ||
		strings.HasSuffix(value, "-") || strings.HasPrefix(value, "\u2212")):
		// An accounting export's negative is not read as one, so that no
		// stock moves on a guess: the rule says how to write it.
		rule += " (a credit or return is written with a leading minus sign, as -5)"
	}
	return rule
}
