package invoice

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/internal/memo"
	"github.com/batchimport/batchimport/units"
)

// Limits of the contract (SPEC §3).
const (
	maxInvoiceNumber = 64
	maxVendor        = 200
	maxVendorSKU     = 64
	maxDescription   = 500
	maxUnit          = 32
	// MaxAccount bounds an account name (SPEC §16): accounts lead every key.
	MaxAccount     = 64
	quantityScale  = 3
	unitPriceScale = 4
)

// The magnitudes numbers must stay below, as powers of ten.
const (
	quantityDigits  = 15 // |quantity| < 10^15
	unitPriceDigits = 14 // unit_price < 10^14
)

// isPlainDecimal accepts what people and JSON encoders write for a number:
// an optional sign, digits with an optional fraction (at least one digit in
// all), an optional exponent of at most three digits. No thousands
// separators, no NaN or Infinity. (A hand-written scanner: this runs for two
// fields of every record.)
func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 || exp > 3 {
			return false
		}
	}
	return i == len(s)
}

// Accounts says which accounts an input's records may name (SPEC §16): the
// account of the run, which a record that names none belongs to, and others
// only when allowed. An upload must not choose its tenant.
type Accounts struct {
	Default string
	Allowed []string // --allow-account
	Any     bool     // --allow-any-account
}

func (a Accounts) allows(name string) bool {
	return a.Any || name == a.Default || slices.Contains(a.Allowed, name)
}

// Validate checks a record's values against the rules of the contract and
// returns the valid line, or a *FieldError naming the first field that breaks
// a rule. accounts says which account values are allowed, and the one of a
// record without; f says how dates and numbers are written.
func Validate(v *Values, accounts Accounts, f ValueFormat) (Line, error) {
	return validate(v, accounts, f, newSeen())
}

// seen is what a decoder remembers of the values it validated, not to
// read them again: a supplier's file repeats a few hundred pack sizes on
// every line, each read through units' regular expressions in 0.8 µs and
// 11 allocations, and an invoice's date on each of its lines, which
// time.Parse and Format read and wrote again.
type seen struct {
	packs     memo.Memo[bool] // which pack fields read as a pack size
	date, day string          // the last date read as written, and as YYYY-MM-DD
}

func newSeen() *seen {
	return &seen{packs: memo.New(func(s string) bool {
		_, ok := units.ParsePack(s)
		return ok
	})}
}

// validate is Validate, remembering in s.
func validate(v *Values, accounts Accounts, f ValueFormat, s *seen) (Line, error) {
	var l Line
	var err error
	text := func(field, value string, required bool, max int) string {
		if err != nil {
			return ""
		}
		value, err = checkText(field, value, required, max)
		return value
	}
	l.InvoiceNumber = text(FieldInvoiceNumber, visible(v.InvoiceNumber), true, maxInvoiceNumber)
	date := text(FieldInvoiceDate, v.InvoiceDate, true, 0)
	l.Vendor = text(FieldVendor, v.Vendor, true, maxVendor)
	l.VendorSKU = text(FieldVendorSKU, v.VendorSKU, false, maxVendorSKU)
	l.Description = text(FieldDescription, v.Description, true, maxDescription)
	quantity := text(FieldQuantity, v.Quantity, true, 0)
	l.Unit = text(FieldUnit, v.Unit, false, maxUnit)
	price := text(FieldUnitPrice, v.UnitPrice, true, 0)
	l.Account = text(FieldAccount, v.Account, false, MaxAccount)
	l.Pack = text(FieldPack, v.Pack, false, maxUnit)
	if err != nil {
		return Line{}, err
	}
	if isTotal(l.Description) {
		return Line{}, &FieldError{Field: FieldDescription, Rule: "is a total, not a product: a row of sums is no invoice line (--skip-non-lines skips it)", Value: shorten(l.Description)}
	}
	if l.Pack != "" && !s.packs.Get(l.Pack) {
		return Line{}, &FieldError{Field: FieldPack, Rule: "must be a pack size: COUNT/SIZE UNIT, as 4/1GAL, 1/25LB or 6/#10, or SIZE UNIT, as 40# or 200CT", Value: shorten(l.Pack)}
	}
	switch {
	case l.Account == "":
		l.Account = accounts.Default
	case !accounts.allows(l.Account):
		return Line{}, &FieldError{Field: FieldAccount, Value: shorten(l.Account),
			Rule: "names another account than the run's (--account " + accounts.Default + "); allow it with --allow-account NAME or --allow-any-account"}
	}
	if date == s.date && s.day != "" {
		l.InvoiceDate = s.day
	} else {
		day, ok := f.date(date)
		if !ok {
			return Line{}, &FieldError{Field: FieldInvoiceDate, Rule: f.dateRule(date), Value: shorten(date)}
		}
		l.InvoiceDate, s.date, s.day = day, date, day
	}
	if l.Quantity, err = checkDecimal(FieldQuantity, quantity, quantityScale, f, false); err != nil {
		return Line{}, err
	}
	switch {
	case l.Quantity.IsZero():
		return Line{}, &FieldError{Field: FieldQuantity, Rule: "must not be zero (use a negative quantity for a credit or return)", Value: quantity}
	case l.Quantity.AtLeastPow10(quantityDigits):
		return Line{}, &FieldError{Field: FieldQuantity, Rule: "absolute value must be below 10^15", Value: shorten(quantity)}
	}
	if l.UnitPrice, err = checkDecimal(FieldUnitPrice, price, unitPriceScale, f, true); err != nil {
		return Line{}, err
	}
	switch {
	case l.UnitPrice.Sign() < 0:
		return Line{}, &FieldError{Field: FieldUnitPrice, Rule: "must be zero or more", Value: price}
	case l.UnitPrice.AtLeastPow10(unitPriceDigits):
		return Line{}, &FieldError{Field: FieldUnitPrice, Rule: "must be below 10^14", Value: shorten(price)}
	}
	return l, nil
}

// totals are descriptions that name a row of sums, not a product. Such a
// row often has a quantity, the sum of the lines': imported, it would add
// that much again to an item called "Invoice Total".
var totals = map[string]bool{
	"total": true, "totals": true, "subtotal": true, "sub total": true, "grand total": true,
	"invoice total": true, "order total": true, "page total": true, "total due": true, "amount due": true,
	"balance due": true, "total amount": true, "net total": true, "total net": true, "total invoice": true,
	"summe": true, "gesamtsumme": true, "zwischensumme": true, "total ht": true, "total ttc": true,
}

// isTotal says whether a description is a total's label: "TOTAL",
// "Sub-Total:", "Invoice total".
func isTotal(description string) bool {
	if len(description) > 24 || !totalWord(description) { // most lines: no label is that long, or holds such a word
		return false
	}
	s := strings.ToLower(strings.TrimRight(strings.TrimSpace(description), ":. "))
	return totals[strings.Join(strings.Fields(strings.ReplaceAll(s, "-", " ")), " ")]
}

// totalWord says whether s holds "total", "due" or "summe", in any case,
// as every one of totals does: lowering, splitting and joining s, as
// isTotal does after it, never brings letters together.
func totalWord(s string) bool {
	for i := range len(s) {
		switch s[i] | 0x20 { // an ASCII letter lowered; no other byte becomes one
		case 't':
			if foldAt(s[i:], "total") {
				return true
			}
		case 'd':
			if foldAt(s[i:], "due") {
				return true
			}
		case 's':
			if foldAt(s[i:], "summe") {
				return true
			}
		}
	}
	return false
}

// foldAt says whether s starts with the lower-case ASCII word w, in any
// case.
func foldAt(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := range len(w) {
		if s[i]|0x20 != w[i] {
			return false
		}
	}
	return true
}

// visible drops from an invoice number the characters that show nothing
// (a zero-width space, a word joiner, a soft hyphen, a byte order mark),
// which a copy and paste may bring along: "INV-1" and "INV-1" followed by
// a zero-width space are one invoice, as an operator reads them.
func visible(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf && utf8.ValidString(s) { // else checkText rejects it as it is
			return strings.Map(func(r rune) rune {
				switch r {
				case '\u200b', '\u2060', '\u00ad', '\ufeff':
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// ruleUTF8 is the rule of text that is not UTF-8.
const ruleUTF8 = "must be valid UTF-8"

// checkText trims a text value and applies the rules every text field shares.
// max is in characters; 0 means no limit.
func checkText(field, value string, required bool, max int) (string, error) {
	plain := printableASCII(value) // most values: then neither check below can fail
	if !plain && !utf8.ValidString(value) {
		return "", &FieldError{Field: field, Rule: ruleUTF8, Value: shorten(strings.ToValidUTF8(value, "\uFFFD"))}
	}
	value = strings.TrimSpace(value)
	if !plain {
		if i := controlAt(value); i >= 0 {
			return "", &FieldError{Field: field, Rule: fmt.Sprintf("must not contain control characters other than tab (it has %U)", value[i]),
				Value: shorten(strconv.Quote(value))}
		}
	}
	if value == "" && required {
		return "", &FieldError{Field: field, Rule: "is required and must not be empty"}
	}
	if max > 0 && len(value) > max && utf8.RuneCountInString(value) > max { // no more runes than bytes
		return "", &FieldError{Field: field, Rule: "must be at most " + itoa(max) + " characters", Value: shorten(value)}
	}
	return value, nil
}

// maxDigits bounds the digits of a number (SPEC §16).
const maxDigits = 40

func digitsIn(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// printableASCII says s is ASCII without a C0 control character, a tab
// included: text checkText need not look at again. It looks at eight bytes
// at a time: a byte below 0x20, or at or above 0x80, has its top bit set
// in b-0x20 or in b. (A byte borrowed from sets it only above one that
// fails already.)
func printableASCII(s string) bool {
	const low, high = 0x2020202020202020, 0x8080808080808080
	for ; len(s) >= 8; s = s[8:] {
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if ((x-low)|x)&high != 0 {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// controlAt returns where s has a C0 control character other than tab
// (a NUL, a line break inside the value, a terminal escape), or -1
// (SPEC §16).
func controlAt(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' {
			return i
		}
	}
	return -1
}

// checkDecimal parses an exact decimal written as f says (with a currency
// sign when currency). A value with more fractional digits than scale
// allows is rejected, never rounded; trailing zeros after the point do not
// count, since dropping them changes nothing ("2.50000" is 2.5). A value
// too large for an int64 is fixed.Beyond, which the caller's magnitude
// rule refuses as it would the value itself.
func checkDecimal(field, value string, scale int32, f ValueFormat, currency bool) (fixed.Decimal, error) {
	plain, ok := f.number(value, currency)
	if !ok || !isPlainDecimal(plain) {
		return fixed.Decimal{}, &FieldError{Field: field, Rule: f.numberRule(field, value), Value: shorten(value)}
	}
	if len(plain) > maxDigits && digitsIn(plain) > maxDigits {
		// Refused before parsing: a million digits would take seconds.
		return fixed.Decimal{}, &FieldError{Field: field, Rule: "must have at most " + itoa(maxDigits) + " digits", Value: shorten(value)}
	}
	tooPrecise := func() error {
		return &FieldError{Field: field, Rule: "must have at most " + itoa(int(scale)) + " fractional digits (it is never rounded)", Value: shorten(value)}
	}
	exponent := strings.IndexByte(plain, 'e') >= 0 || strings.IndexByte(plain, 'E') >= 0
	if dot := strings.IndexByte(plain, '.'); dot >= 0 && !exponent && len(plain)-dot-1 > int(scale) {
		// Without an exponent, the digits past the scale are read off the
		// text: zeros are dropped, anything else is refused.
		end := dot + 1 + int(scale)
		if strings.Trim(plain[end:], "0") != "" {
			return fixed.Decimal{}, tooPrecise()
		}
		plain = plain[:end]
	}
	if !exponent {
		if d, ok := fixed.Parse(plain); ok {
			return d, nil
		}
	}
	d, err := decimal.NewFromString(plain)
	if err != nil {
		return fixed.Decimal{}, &FieldError{Field: field, Rule: f.numberRule(field, value), Value: shorten(value)}
	}
	if exponent {
		if !d.Equal(d.Truncate(scale)) {
			return fixed.Decimal{}, tooPrecise()
		}
		d = d.Truncate(scale)
	}
	if v, ok := fixed.FromDecimal(d); ok {
		return v, nil
	}
	// At most scale decimals that an int64 cannot hold: past 9.2·10^14,
	// and every limit.
	return fixed.Beyond(d.IsNegative()), nil
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

// shorten keeps error messages readable when a value is huge.
func shorten(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
