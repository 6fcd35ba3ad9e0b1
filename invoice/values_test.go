package invoice

import (
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestValueFormatNumbers(t *testing.T) {
	cases := []struct {
		decimal, thousands string
		in                 string
		currency           bool
		want               string // "" = rejected
	}{
		{".", "NONE", "12.5", false, "12.5"},
		{".", "NONE", "1,089.00", false, ""},
		{".", ",", "1,089.00", false, "1089.00"},
		{".", ",", "1,234,567.5", false, "1234567.5"},
		{".", ",", "1,08.00", false, ""},
		{".", ",", "12,3456", false, ""},
		{".", ",", "-1,000", false, "-1000"},
		{",", "NONE", "2,5", false, "2.5"},
		{",", "NONE", "2.5", false, ""},
		{",", ".", "1.089,00", false, "1089.00"},
		{",", " ", "1 089,5", false, "1089.5"},
		{".", "'", "1'089.5", false, "1089.5"},
		// Spreadsheets' own separators read as the space or apostrophe set.
		{",", " ", "1\u00a0089,5", false, "1089.5"},
		{",", " ", "1\u202f234\u202f567,25", false, "1234567.25"},
		{".", " ", "12\u2009345.5", false, "12345.5"},
		{",", " ", "1\u00a0089,50\u00a0€", true, "1089.50"},
		{".", "'", "1\u2019089.5", false, "1089.5"},
		{",", ".", "1\u00a0089,5", false, ""},
		{".", "'", "1\u00a0089.5", false, ""},
		{".", " ", "1\u2019089.5", false, ""},
		{".", "NONE", "1\u00a0089", false, ""},
		{".", "NONE", "$32.50", true, "32.50"},
		{".", "NONE", "-$3.00", true, "-3.00"},
		{",", ".", "4,5 €", true, "4.5"},
		{".", "NONE", "£7", true, "7"},
		{".", "NONE", "$$7", true, ""},
		{".", "NONE", "$32.50", false, ""},
		// Groups are digits, and no number starts with a zero group.
		{",", ".", "0.125", false, ""},
		{",", ".", "1.5E3", false, ""},
		{".", ",", "0,125", false, ""},
		{".", ",", "1,2E4", false, ""},
		{",", ".", "1.5E3,5", false, ""},
		{",", ".", "1,5E3", false, "1.5E3"},
		{".", ",", "1,000E2", false, ""},
	}
	for _, c := range cases {
		f, err := NewValueFormat("", c.decimal, c.thousands)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.number(c.in, c.currency)
		if ok && !isPlainDecimal(got) {
			ok = false
		}
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("decimal %q thousands %q currency %v: %q read as %q, want %q", c.decimal, c.thousands, c.currency, c.in, got, c.want)
		}
	}
	if _, err := NewValueFormat("", ",", ","); err == nil {
		t.Error("the same decimal and thousands separator: no error")
	}
}

// A number grouped by spaces, of any kind, is refused with the settings
// that read it, unless those are set already.
func TestNumberRuleNamesTheSpaceSeparator(t *testing.T) {
	const hint = "--thousands-separator ' '"
	plain, _ := NewValueFormat("", ".", "")
	comma, _ := NewValueFormat("", ",", "")
	spaced, _ := NewValueFormat("", ",", " ")
	cases := []struct {
		f     ValueFormat
		value string
		want  bool
	}{
		{plain, "1\u202f089,50", true},
		{plain, "1 089.50", true},
		{comma, "1\u00a0089,50", true},
		{plain, "4,5 €", false},
		{plain, "1,089.00", false},
		{spaced, "1\u00a0089\u00a0089,5", false},
	}
	for _, c := range cases {
		if got := strings.Contains(c.f.numberRule(FieldUnitPrice, c.value), hint); got != c.want {
			t.Errorf("%q with thousands %q: rule %q; names %s: %v, want %v", c.value, c.f.Thousands, c.f.numberRule(FieldUnitPrice, c.value), hint, got, c.want)
		}
	}
}

func TestValueFormatDates(t *testing.T) {
	cases := []struct{ format, in, want string }{
		{"", "2026-11-28", "2026-11-28"},
		{"", "2026-11-28T10:15:00Z", "2026-11-28"},
		{"", "2026-11-28T10:15:00.5+01:00", "2026-11-28"},
		{"", "2026-11-28 10:15", "2026-11-28"},
		{"", "2026-11-28 lunch", ""},
		{"", "2026-11-28T99:99", ""}, // no time of a day: no date-time
		{"", "2026-11-28T24:00", ""},
		{"", "2026-11-28T10:61:00", ""},
		{"", "2026-11-28T10:15:00+25:00", ""},
		{"", "2026-11-28T10:15:00.123456Z", "2026-11-28"},
		{"", "2026-11-28T10:15-0500", "2026-11-28"},
		{"", "2026-11-28 9:15 PM", "2026-11-28"},
		{"", "2026-11-28 13:15 PM", ""},
		{"", "2026-02-30", ""},
		{"", "11/28/2026", ""},
		{"", "2026-5-4", ""}, // YYYY-MM-DD, the contract's form, has two digits each
		{"YYYY-MM-DD", "2026-5-4", ""},
		{"MM/DD/YYYY", "11/28/2026", "2026-11-28"},
		{"MM/DD/YYYY", "1/5/2026", "2026-01-05"},
		{"MM/DD/YYYY", "11/28/2026 12:00:00 AM", "2026-11-28"},
		{"MM/DD/YYYY", "28/11/2026", ""},
		{"DD.MM.YYYY", "28.11.2026", "2026-11-28"},
		{"DD.MM.YYYY", "29.02.2025", ""},
		// An ISO 8601 date-time gives its date whatever the format; a
		// date alone is the format's.
		{"MM/DD/YYYY", "2026-11-27T08:30:00Z", "2026-11-27"},
		{"DD.MM.YYYY", "2026-11-27T08:30:00+01:00", "2026-11-27"},
		{"DD.MM.YYYY", "2026-11-27 08:30", "2026-11-27"},
		{"DD.MM.YYYY", "2026-11-27", ""},
		{"DD.MM.YYYY", "2026-02-30T08:30:00Z", ""},
		{"YYYY-DD-MM", "2026-11-05T08:30:00Z", "2026-05-11"}, // the format's, where it reads
		{"YYYYMMDD", "20261128", "2026-11-28"},
	}
	for _, c := range cases {
		f, err := NewValueFormat(c.format, ".", "NONE")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.date(c.in)
		if !ok {
			got = ""
		}
		if got != c.want {
			t.Errorf("--date-format %q: %q read as %q, want %q", c.format, c.in, got, c.want)
		}
	}
	for _, bad := range []string{"MM/DD/YY", "MM/DD", "YYYY-MM-DD-DD", "mm/dd/yyyy hh"} {
		if _, err := NewValueFormat(bad, ".", "NONE"); err == nil {
			t.Errorf("--date-format %q: no error", bad)
		}
	}
}

func TestLoneSurrogate(t *testing.T) {
	cases := map[string]string{
		`"plain"`:               "",
		`"\ud83c\udf45 tomato"`: "", // a pair: 🍅
		`"\ud800"`:              `\ud800`,
		`"a\udc00b"`:            `\udc00`,
		`"\ud83c tomato"`:       `\ud83c`,
		`"\\ud800"`:             "", // an escaped backslash, then text
		`"\u00e9\ud83c\udf45"`:  "",
		`"\ud83c\ud83c\udf45"`:  `\ud83c`,
	}
	for raw, want := range cases {
		got, ok := loneSurrogate([]byte(raw))
		if got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", raw, got, ok, want)
		}
	}
}

// What an encoding cannot read rejects its field rather than being stored
// as U+FFFD or a control character.
func TestEncodingsRejectWhatTheyCannotRead(t *testing.T) {
	head := "invoice_number,invoice_date,vendor,description,quantity,unit_price\n"
	for _, c := range []struct {
		enc, in, want string // want: the description stored, "" = rejected
	}{
		{"windows-1252", head + "A,2026-01-02,V,Caf\xe9 \x80,1,1\n", "Café €"},
		{"windows-1252", head + "A,2026-01-02,V,Caf\xe9 \x81,1,1\n", ""},
		// A capital letter and a sign are two bytes that are UTF-8 for
		// no Latin letter: the code page's, first line or later.
		{"windows-1252", head + "A,2026-01-02,V,NESCAF\xc9\xae GOLD,1,1\n", "NESCAFÉ® GOLD"},
		{"windows-1252", head + "A,2026-01-02,V,WEI\xdf\xb0,1,1\n", "WEIß°"},
		{"windows-1252", head + "A,2026-01-02,V,Cr\xe8me \xc9\xae,1,1\n", "Crème É®"},
		{"iso-8859-1", head + "A,2026-01-02,V,NESCAF\xc9\xae,1,1\n", "NESCAFÉ®"},
		{"windows-1252", head + "A,2026-01-02,V,\xc0\xc9\xae,1,1\n", "ÀÉ®"},
		{"windows-1252", head + "A,2026-01-02,V,SAUT\xc9\x85 CAF\xc9\x80 CR\xc8\xbd A\xc7A\xcd\x99 MEN\xda\xae,1,1\n", "SAUTÉ… CAFÉ€ CRÈ½ AÇAÍ™ MENÚ®"},
		{"iso-8859-15", head + "A,2026-01-02,V,CAF\xc9\xa4 CAF\xc9\xae,1,1\n", "CAFÉ€ CAFÉ®"},
		// Greek letters, modifiers and Latin letters alone are UTF-8.
		{"windows-1252", head + "A,2026-01-02,V,Filter 5 μm Ω Domʼs 5˚C Brașov łódź,1,1\n", "Filter 5 μm Ω Domʼs 5˚C Brașov łódź"},
		{"windows-1252", head + "A,2026-01-02,V,Кофе в зёрнах Молоко 1 л Cơm tấm Bơ Gōng bǎo خبز و زبدة ƒ,1,1\n", "Кофе в зёрнах Молоко 1 л Cơm tấm Bơ Gōng bǎo خبز و زبدة ƒ"},
		{"windows-1252", head + "A,2026-01-02,V,Muối Cá hồi Bột mì Trứng 【NEW】Tofu 2份 CJ가,1,1\n", "Muối Cá hồi Bột mì Trứng 【NEW】Tofu 2份 CJ가"},
		{"iso-8859-1", head + "A,2026-01-02,V,Cá hồi Trứng 2份,1,1\n", "Cá hồi Trứng 2份"},
		// UTF-8 words of letters beyond the Latin ones, and a combining
		// accent, are UTF-8, first line or later.
		{"windows-1252", head + "A,2026-01-02,V,Feta Φέτα Dodoni,1,1\n", "Feta Φέτα Dodoni"},
		{"windows-1252", head + "A,2026-01-02,V,Caf\xe9 Смесь Сыр,1,1\n", "Café Смесь Сыр"},
		{"windows-1252", head + "A,2026-01-02,V,Challah חלה,1,1\n", "Challah חלה"},
		{"windows-1252", head + "A,2026-01-02,V,Cre\u0300me \xc9\xae,1,1\n", "Cre\u0300me É®"},
		{"iso-8859-1", head + "A,2026-01-02,V,Ctrl \x85,1,1\n", ""},
		{"iso-8859-15", head + "A,2026-01-02,V,\xa4uro,1,1\n", "€uro"},
		{"utf-16", utf16le(head + "A,2026-01-02,V,Cr\u00e8me,1,1\n"), "Crème"},
		{"utf-16", utf16be(head + "A,2026-01-02,V,Cr\u00e8me \u20ac,1,1\n"), "Crème €"},   // big-endian, no byte order mark
		{"utf-16", utf16le(head+"A,2026-01-02,V,1,1,") + "\x00\xd8" + utf16le("x\n"), ""}, // a lone surrogate
		{"utf-16", utf16le(head+"A,2026-01-02,V,1,1,Odd") + "\x41", ""},                   // an odd last byte
	} {
		recs := decodeAll(t, c.in, Options{Encoding: c.enc})
		if len(recs) != 1 {
			t.Fatalf("%s %q: %d records", c.enc, c.in, len(recs))
		}
		got := recs[0].Valid.Description
		if recs[0].Err != nil {
			got = ""
		}
		if got != c.want {
			t.Errorf("%s %q: description %q (%v), want %q", c.enc, c.in, got, recs[0].Err, c.want)
		}
	}
}

// The reason names what the encoding could not read, and what to try.
func TestEncodingRejectsNameTheEncoding(t *testing.T) {
	in := "invoice_number,invoice_date,vendor,description,quantity,unit_price\nA,2026-01-02,V,JALAPE\xd1O\x92S,1,1\n"
	recs := decodeAll(t, in, Options{Encoding: "iso-8859-1"})
	if len(recs) != 1 || recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), "description: must be text: it holds a byte iso-8859-1 reads as a control character") ||
		!strings.Contains(recs[0].Err.Error(), "try --encoding windows-1252") {
		t.Errorf("a Windows-1252 quote read as ISO-8859-1: %v", recs[0].Err)
	}
}

func utf16le(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func utf16be(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return string(b)
}

// UTF-8 read with a single-byte --encoding is read as UTF-8: a rejects
// file whose byte order mark an editor dropped stays right.
func TestSingleByteEncodingOfUTF8(t *testing.T) {
	in := "invoice_number,invoice_date,vendor,description,quantity,unit_price\nA,2026-01-02,V,Crème fraîche,1,1\n"
	recs := decodeAll(t, in, Options{Encoding: "windows-1252"})
	if len(recs) != 1 || recs[0].Valid.Description != "Crème fraîche" {
		t.Errorf("UTF-8 read as windows-1252: %+v", recs[0])
	}
	// A Greek letter alone, then a line in Windows-1252: each as written.
	recs = decodeAll(t, "invoice_number,invoice_date,vendor,description,quantity,unit_price\nA,2026-01-02,V,Filter 5 μm,1,1\nA,2026-01-02,V,Caf\xe9,1,1\n",
		Options{Encoding: "windows-1252"})
	if len(recs) != 2 || recs[0].Valid.Description != "Filter 5 μm" || recs[1].Valid.Description != "Café" {
		t.Errorf("a Greek letter, then Windows-1252: %+v", recs)
	}
	// Its first accent far into it, past what the start tells, and a line
	// in Windows-1252 after it: each as written, none as "CrÃ¨me".
	var b strings.Builder
	b.WriteString("invoice_number,invoice_date,vendor,description,quantity,unit_price\n")
	for b.Len() < 200<<10 {
		b.WriteString("A,2026-01-02,V,Plain,1,1\n")
	}
	b.WriteString("A,2026-01-02,V,Crème brûlée ½ € Φέτα,1,1\nA,2026-01-02,V,Caf\xe9 \x80 NESCAF\xc9\xae,1,1\n")
	for name, r := range map[string]io.Reader{"whole": strings.NewReader(b.String()),
		"a byte a read": iotest.OneByteReader(strings.NewReader(b.String()))} { // sequences cut anywhere
		recs = decodeFrom(t, r, Options{Format: CSV, Encoding: "windows-1252"})
		n := len(recs)
		if n < 2 || recs[n-2].Valid.Description != "Crème brûlée ½ € Φέτα" || recs[n-1].Valid.Description != "Café € NESCAFÉ®" {
			t.Fatalf("late UTF-8, then Windows-1252 (%s): %q, %q", name, recs[n-2].Valid.Description, recs[n-1].Valid.Description)
		}
	}
}

// A date that only the other order reads says so, and what to do about
// the dates that read both ways.
func TestDateRuleNamesTheOtherOrder(t *testing.T) {
	f, err := NewValueFormat("MM/DD/YYYY", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := f.date("05/11/2026"); !ok || d != "2026-05-11" {
		t.Fatalf("05/11/2026: %q, %t", d, ok)
	}
	if _, ok := f.date("28/11/2026"); ok {
		t.Fatal("28/11/2026 read as MM/DD/YYYY")
	}
	if rule := f.dateRule("28/11/2026"); !strings.Contains(rule, "reads as DD/MM/YYYY") || !strings.Contains(rule, "--date-format DD/MM/YYYY") {
		t.Errorf("28/11/2026: %q", rule)
	}
	if rule := f.dateRule("2026-11-28"); strings.Contains(rule, "reads as") {
		t.Errorf("2026-11-28: %q names another order", rule)
	}
}

// numberBefore is number as it was before it stopped allocating: the
// reference the rewrite is held to.
func numberBefore(f ValueFormat, s string, currency bool) (string, bool) {
	if currency {
		s = stripCurrency(s)
	}
	if f.Thousands == 0 && f.Decimal != ',' {
		return s, true
	}
	sign := ""
	if s != "" && (s[0] == '-' || s[0] == '+') {
		sign, s = s[:1], s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, string(f.Decimal))
	if f.Thousands != 0 && strings.IndexByte(intPart, f.Thousands) >= 0 {
		groups := strings.Split(intPart, string(f.Thousands))
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3 || g[0] == '0')) || (i > 0 && len(g) != 3) || strings.Trim(g, "0123456789") != "" {
				return "", false
			}
		}
		intPart = strings.Join(groups, "")
	}
	if strings.ContainsAny(frac, ".,' ") || strings.ContainsAny(intPart, ".,' ") {
		return "", false
	}
	if hasFrac {
		return sign + intPart + "." + frac, true
	}
	return sign + intPart, true
}

// TestNumberAsBefore holds number to numberBefore over every setting of
// the separators and a million strings of the characters numbers are
// written with, and checks that a value written as the contract writes it
// costs no allocation, and any other at most one (a negative price with a
// currency sign, which is refused, one more).
func TestNumberAsBefore(t *testing.T) {
	const chars = "0123456789012345678901234567890.,' -+$€eE"
	r := rand.New(rand.NewPCG(3, 4))
	var formats []ValueFormat
	for _, dec := range []string{".", ","} {
		for _, th := range []string{"", ",", ".", "'", " "} {
			if f, err := NewValueFormat("", dec, th); err == nil {
				formats = append(formats, f)
			}
		}
	}
	for n := range 1_000_000 {
		b := make([]byte, r.IntN(14))
		for i := range b {
			b[i] = chars[r.IntN(len(chars))]
		}
		s := string(b)
		f := formats[n%len(formats)]
		if n%3 == 0 { // often a number written right in f, grouped or not
			s = written(f, strconv.FormatUint(r.Uint64N(1e10), 10), strconv.Itoa(r.IntN(1000)), r.IntN(2) == 0)
		}
		for _, currency := range []bool{false, true} {
			got, ok := f.number(s, currency)
			want, wantOK := numberBefore(f, s, currency)
			if got != want || ok != wantOK {
				t.Fatalf("number(%q) with decimal %q, thousands %q, currency %v = %q, %v; want %q, %v", s, f.Decimal, f.Thousands, currency, got, ok, want, wantOK)
			}
		}
	}
	f, _ := NewValueFormat("", ",", ".")
	for s, want := range map[string]float64{"1234": 0, "-12": 0, "+7": 0, "1234 €": 0, "$ 7": 0, "1.234": 1, "1.234,5 €": 1} {
		if n := testing.AllocsPerRun(100, func() { f.number(s, true) }); n != want {
			t.Errorf("number(%q): %v allocations, want %v", s, n, want)
		}
	}
}

// written is a number of digits whole and frac as f writes it, its
// thousands grouped when group.
func written(f ValueFormat, whole, frac string, group bool) string {
	var b strings.Builder
	for i := range len(whole) {
		if group && f.Thousands != 0 && i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(f.Thousands)
		}
		b.WriteByte(whole[i])
	}
	if frac != "0" {
		b.WriteByte(f.Decimal)
		b.WriteString(frac)
	}
	return b.String()
}
