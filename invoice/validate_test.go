package invoice

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func validValues() Values {
	return Values{
		InvoiceNumber: "INV-1", InvoiceDate: "2026-05-04", Vendor: "Sysco", VendorSKU: "SY-1",
		Description: "Whole Milk", Quantity: "12", Unit: "gal", UnitPrice: "3.89",
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(v *Values)
		field  string // "" = valid
		inRule string
	}{
		{"valid", func(v *Values) {}, "", ""},
		{"trimmed", func(v *Values) { v.Vendor = "  Sysco \t" }, "", ""},
		{"invoice number missing", func(v *Values) { v.InvoiceNumber = "  " }, FieldInvoiceNumber, "required"},
		{"invoice number too long", func(v *Values) { v.InvoiceNumber = strings.Repeat("x", 65) }, FieldInvoiceNumber, "at most 64"},
		{"invoice number 64 chars", func(v *Values) { v.InvoiceNumber = strings.Repeat("é", 64) }, "", ""},
		{"date missing", func(v *Values) { v.InvoiceDate = "" }, FieldInvoiceDate, "required"},
		{"date not a calendar date", func(v *Values) { v.InvoiceDate = "2026-02-30" }, FieldInvoiceDate, "calendar date"},
		{"date leap day ok", func(v *Values) { v.InvoiceDate = "2028-02-29" }, "", ""},
		{"date wrong form", func(v *Values) { v.InvoiceDate = "04/05/2026" }, FieldInvoiceDate, "YYYY-MM-DD"},
		{"date single digit month", func(v *Values) { v.InvoiceDate = "2026-5-04" }, FieldInvoiceDate, "YYYY-MM-DD"},
		{"date with time", func(v *Values) { v.InvoiceDate = "2026-05-04T10:00:00" }, "", ""}, // ISO 8601: its date
		{"date with words after", func(v *Values) { v.InvoiceDate = "2026-05-04Tnoon" }, FieldInvoiceDate, "YYYY-MM-DD"},
		{"vendor missing", func(v *Values) { v.Vendor = "" }, FieldVendor, "required"},
		{"vendor too long", func(v *Values) { v.Vendor = strings.Repeat("v", 201) }, FieldVendor, "at most 200"},
		{"sku optional", func(v *Values) { v.VendorSKU = "" }, "", ""},
		{"sku too long", func(v *Values) { v.VendorSKU = strings.Repeat("s", 65) }, FieldVendorSKU, "at most 64"},
		{"description missing", func(v *Values) { v.Description = "" }, FieldDescription, "required"},
		{"description too long", func(v *Values) { v.Description = strings.Repeat("d", 501) }, FieldDescription, "at most 500"},
		{"quantity missing", func(v *Values) { v.Quantity = "" }, FieldQuantity, "required"},
		{"quantity zero", func(v *Values) { v.Quantity = "0.000" }, FieldQuantity, "not be zero"},
		{"quantity negative is a credit", func(v *Values) { v.Quantity = "-2.5" }, "", ""},
		{"quantity 4 decimals", func(v *Values) { v.Quantity = "1.2345" }, FieldQuantity, "at most 3 fractional digits"},
		{"quantity trailing zeros", func(v *Values) { v.Quantity = "1.2340" }, "", ""},
		{"quantity not a number", func(v *Values) { v.Quantity = "twelve" }, FieldQuantity, "decimal number"},
		{"quantity thousands separator", func(v *Values) { v.Quantity = "1,000" }, FieldQuantity, "decimal number"},
		{"quantity NaN", func(v *Values) { v.Quantity = "NaN" }, FieldQuantity, "decimal number"},
		{"quantity in parentheses", func(v *Values) { v.Quantity = "(5)" }, FieldQuantity, "written with a leading minus sign, as -5"},
		{"quantity with a trailing minus", func(v *Values) { v.Quantity = "5-" }, FieldQuantity, "written with a leading minus sign, as -5"},
		{"quantity with a Unicode minus", func(v *Values) { v.Quantity = "\u22125" }, FieldQuantity, "written with a leading minus sign, as -5"},
		{"price in parentheses", func(v *Values) { v.UnitPrice = "(2)" }, FieldUnitPrice, "decimal number such as 12.5 (got"},
		{"quantity at limit", func(v *Values) { v.Quantity = "1000000000000000" }, FieldQuantity, "below 10^15"},
		{"quantity below limit", func(v *Values) { v.Quantity = "-999999999999999.999" }, "", ""},
		{"quantity exponent", func(v *Values) { v.Quantity = "1.5e2" }, "", ""},
		{"price missing", func(v *Values) { v.UnitPrice = "" }, FieldUnitPrice, "required"},
		{"price zero ok", func(v *Values) { v.UnitPrice = "0" }, "", ""},
		{"price negative", func(v *Values) { v.UnitPrice = "-1" }, FieldUnitPrice, "zero or more"},
		{"price 5 decimals", func(v *Values) { v.UnitPrice = "0.12345" }, FieldUnitPrice, "at most 4 fractional digits"},
		{"price at limit", func(v *Values) { v.UnitPrice = "100000000000000" }, FieldUnitPrice, "below 10^14"},
		{"unit too long", func(v *Values) { v.Unit = strings.Repeat("u", 33) }, FieldUnit, "at most 32"},
		{"invalid UTF-8", func(v *Values) { v.Description = "caf\xe9" }, FieldDescription, "UTF-8"},
		{"NUL", func(v *Values) { v.Vendor = "Sys\x00co" }, FieldVendor, "control characters other than tab (it has U+0000)"},
		{"line break inside", func(v *Values) { v.Description = "Milk\nWhole" }, FieldDescription, "U+000A"},
		{"terminal escape", func(v *Values) { v.InvoiceNumber = "A\x1b[31m1" }, FieldInvoiceNumber, "U+001B"},
		{"tab inside is kept", func(v *Values) { v.Description = "Milk\tWhole" }, "", ""},
		{"line breaks around are trimmed", func(v *Values) { v.Description = "\r\nMilk\r\n" }, "", ""},
		{"41 digits", func(v *Values) { v.Quantity = "0." + strings.Repeat("0", 39) + "1" }, FieldQuantity, "at most 40 digits"},
		{"a million digits", func(v *Values) { v.UnitPrice = strings.Repeat("9", 1_000_000) }, FieldUnitPrice, "at most 40 digits"},
		{"40 digits", func(v *Values) { v.Quantity = "1" + strings.Repeat("0", 36) + ".000" }, FieldQuantity, "below 10^15"},
		// Past an int64 with their decimals, below 10^18: the limit, still.
		{"quantity past an int64", func(v *Values) { v.Quantity = "9999999999999999.999" }, FieldQuantity, "below 10^15"},
		{"quantity past an int64 by exponent", func(v *Values) { v.Quantity = "9999999999999999999e-3" }, FieldQuantity, "below 10^15"},
		{"price past an int64", func(v *Values) { v.UnitPrice = "922337203685477.5808" }, FieldUnitPrice, "below 10^14"},
		{"negative price past an int64", func(v *Values) { v.UnitPrice = "-999999999999999.9999" }, FieldUnitPrice, "zero or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := validValues()
			tt.edit(&v)
			l, err := Validate(&v, Accounts{Default: "acme"}, ValueFormat{})
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if l.Account != "acme" {
					t.Errorf("account = %q, want the default", l.Account)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FieldError on %s, got %v", tt.field, err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Error(), tt.inRule) {
				t.Errorf("got %q, want field %s and rule containing %q", fe.Error(), tt.field, tt.inRule)
			}
		})
	}
}

// An invoice number keeps no character that shows nothing: re-sent with a
// zero-width space after it, it is the same invoice. Bytes that are not
// UTF-8 are still rejected, not made U+FFFD.
func TestValidateInvoiceNumberKeepsWhatShows(t *testing.T) {
	for in, want := range map[string]string{
		"INV-1\u200b": "INV-1", "\ufeffINV-1": "INV-1", "IN\u00adV-1\u2060": "INV-1", "Rechnung-ü1": "Rechnung-ü1", "INV-1": "INV-1",
	} {
		v := validValues()
		v.InvoiceNumber = in
		l, err := Validate(&v, Accounts{Default: "acme"}, ValueFormat{})
		if err != nil || l.InvoiceNumber != want {
			t.Errorf("invoice number %q: %q, %v; want %q", in, l.InvoiceNumber, err, want)
		}
	}
	v := validValues()
	v.InvoiceNumber = "INV-\xff\u200b"
	var fe *FieldError
	if _, err := Validate(&v, Accounts{Default: "acme"}, ValueFormat{}); !errors.As(err, &fe) || fe.Field != FieldInvoiceNumber || fe.Rule != ruleUTF8 {
		t.Errorf("invoice number that is not UTF-8: %v; want it rejected", err)
	}
}

func TestValidateExactDecimals(t *testing.T) {
	v := validValues()
	v.Quantity, v.UnitPrice, v.Account = " 0.1 ", "1234567890123.4567", " other "
	l, err := Validate(&v, Accounts{Default: "acme", Allowed: []string{"other"}}, ValueFormat{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Quantity.String() != "0.1" || l.UnitPrice.String() != "1234567890123.4567" {
		t.Errorf("decimals not exact: %s %s", l.Quantity, l.UnitPrice)
	}
	if l.Account != "other" {
		t.Errorf("account = %q, want the row's own", l.Account)
	}
}

func TestIsPlainDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "12": true, "-3": true, "+4.5": true, "1.": true, ".5": true, "1.5e2": true, "1E-3": true,
		"": false, "-": false, ".": false, "1e": false, "1e1234": false, "1,000": false, "NaN": false,
		"Infinity": false, "1.2.3": false, " 1": false, "0x10": false, "1_000": false, "--1": false, "e5": false,
	} {
		if got := isPlainDecimal(s); got != want {
			t.Errorf("isPlainDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}

// A record names another account than the run's only where it is allowed.
func TestValidateBindsTheAccount(t *testing.T) {
	for _, c := range []struct {
		accounts Accounts
		value    string
		want     string // the line's account; "" rejected
	}{
		{Accounts{Default: "acme"}, "", "acme"},
		{Accounts{Default: "acme"}, "acme", "acme"},
		{Accounts{Default: "acme"}, "rival", ""},
		{Accounts{Default: "acme"}, "ACME", ""},
		{Accounts{Default: "acme", Allowed: []string{"north", "south"}}, "south", "south"},
		{Accounts{Default: "acme", Allowed: []string{"north"}}, "south", ""},
		{Accounts{Default: "acme", Any: true}, "anyone", "anyone"},
	} {
		v := validValues()
		v.Account = c.value
		l, err := Validate(&v, c.accounts, ValueFormat{})
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%+v, account %q: accepted as %q, want rejected", c.accounts, c.value, l.Account)
		case c.want == "":
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != FieldAccount || !strings.Contains(fe.Rule, "--allow-account") {
				t.Errorf("%+v, account %q: %v; want an account error naming --allow-account", c.accounts, c.value, err)
			}
		case err != nil || l.Account != c.want:
			t.Errorf("%+v, account %q: %q, %v; want %q", c.accounts, c.value, l.Account, err, c.want)
		}
	}
}

// A total, a note, a blank row or an invoice's heading is no line; a line
// cut off before its quantity is one, to be rejected.
func TestIsNonLine(t *testing.T) {
	for _, c := range []struct {
		v    Values
		want bool
	}{
		{Values{}, true},
		{Values{InvoiceNumber: "TOTAL", UnitPrice: "5.00"}, true},
		{Values{InvoiceNumber: "Thank you for your business!"}, true},
		{Values{InvoiceNumber: "C1", InvoiceDate: "2026-11-28", Vendor: "Sysco"}, true},
		{Values{InvoiceNumber: "C1", InvoiceDate: "2026-11-28", Vendor: "Sysco", VendorSKU: "222"}, false},
		{Values{InvoiceNumber: "C1", Description: "Romaine"}, false},
		{Values{InvoiceNumber: "C1", Unit: "cs"}, false},
		{Values{Description: "Romaine", Pack: "4/1GAL"}, false},
		{Values{Description: "Romaine", Quantity: "2"}, false},
		{Values{InvoiceNumber: "R1", Description: "Invoice Total", Quantity: "5", UnitPrice: "70.00"}, true},
		{Values{InvoiceNumber: "R1", Description: "SUB-TOTAL:", Quantity: "5"}, true},
		{Values{InvoiceNumber: "R1", Description: "Total", VendorSKU: "555", Quantity: "5"}, false},
		{Values{InvoiceNumber: "R1", Description: "Fage Total Greek Yogurt", Quantity: "5"}, false},
	} {
		if got := (&Options{}).isNonLine(&c.v); got != c.want {
			t.Errorf("isNonLine(%+v) = %t, want %t", c.v, got, c.want)
		}
	}
	// A unit --set gives every record is none of a record's own.
	opts := &Options{Set: map[string]string{FieldUnit: "cs"}}
	if v := (Values{InvoiceNumber: "TOTAL", Unit: "cs"}); !opts.isNonLine(&v) {
		t.Errorf("with --set unit=cs: %+v is a line", v)
	}
}

// A row of sums, imported, would add the lines' quantity again to an item
// named after it: it is rejected, naming the rule.
func TestTotalIsNoProduct(t *testing.T) {
	for d, total := range map[string]bool{"Invoice Total": true, "TOTAL": true, "Sub-Total:": true, "grand  total": true,
		"Fage Total Greek Yogurt": false, "Total Cereal": false, "Totals Bag": false} {
		v := Values{InvoiceNumber: "R1", InvoiceDate: "2026-11-28", Vendor: "Sysco", Description: d, Quantity: "5", UnitPrice: "70.00"}
		_, err := Validate(&v, Accounts{Default: "acct"}, ValueFormat{})
		if got := err != nil && strings.Contains(err.Error(), "is a total, not a product"); got != total {
			t.Errorf("%q: %v; want rejected as a total: %t", d, err, total)
		}
	}
}

// Every label of totals is found past totalWord, in upper, lower and
// title case, with a hyphen for a space and a colon after it; and a
// description totalWord turns away is no label.
func TestTotalWordLetsEveryLabelThrough(t *testing.T) {
	for label := range totals {
		words := strings.Fields(label)
		for i, w := range words {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
		title := strings.Join(words, " ")
		for _, d := range []string{label, strings.ToUpper(label), title, strings.ReplaceAll(label, " ", "-") + ":", " " + label + " ."} {
			if !isTotal(d) {
				t.Errorf("%q: not read as a total", d)
			}
		}
	}
	for _, d := range []string{"Whole Milk 1 gal", "Eggs 15 dz", "T-O-T-A-L", "Summ e", "du e"} {
		if isTotal(d) {
			t.Errorf("%q: read as a total", d)
		}
	}
}

// printableASCII agrees with a byte at a time over every byte value at
// every place of strings up to 17 bytes, so past one word and its tail.
func TestPrintableASCII(t *testing.T) {
	for n := 0; n <= 17; n++ {
		for at := 0; at < max(n, 1); at++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				if n > 0 {
					b[at] = byte(c)
				}
				want := true
				for _, x := range b {
					want = want && printable(x)
				}
				if got := printableASCII(string(b)); got != want {
					t.Fatalf("printableASCII(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

// Two bytes side by side, every pair of values, at every place of a
// 16-byte string: a byte that borrows from the next (b-0x20 below zero)
// never hides that one's failing, nor makes a good one fail.
func TestPrintableASCIIPairs(t *testing.T) {
	b := []byte(strings.Repeat("a", 16))
	for at := 0; at < len(b)-1; at++ {
		for c := 0; c < 256*256; c++ {
			b[at], b[at+1] = byte(c), byte(c>>8)
			want := printable(b[at]) && printable(b[at+1])
			if got := printableASCII(string(b)); got != want {
				t.Fatalf("printableASCII(%q) = %v, want %v", b, got, want)
			}
		}
		b[at], b[at+1] = 'a', 'a'
	}
}

func printable(c byte) bool { return c >= 0x20 && c < 0x80 }

// TestValuesSeenAgainAreReadAlike checks that a decoder, which reads
// each pack field once and a date again only when it changes, judges every
// line as Validate does alone, in CSV and NDJSON, with dates written
// either way.
func TestValuesSeenAgainAreReadAlike(t *testing.T) {
	packs := []string{"4/1GAL", "large", "4/1GAL", "large", " 6/#10 ", "", "6/#10", "40#", "large"}
	for _, c := range []struct {
		format string
		dates  []string
	}{
		{"", []string{"2026-01-02", "2026-01-02", "2026-02-30", "2026-01-02", "2026-02-30", "2026-01-03", "2026-01-02", "2026-01-02T10:00:00", "2026-01-02"}},
		{"MM/DD/YYYY", []string{"01/02/2026", "01/02/2026", "02/30/2026", "01/02/2026", "1/2/2026", "01/03/2026", "02/30/2026", "01/02/2026", "2026-01-02"}},
	} {
		vf, err := NewValueFormat(c.format, ".", "")
		if err != nil {
			t.Fatal(err)
		}
		var csvIn, jsonIn strings.Builder
		csvIn.WriteString(strings.TrimSuffix(header, "\n") + ",pack\n")
		var want []Values
		for i, p := range packs {
			v := Values{InvoiceNumber: fmt.Sprint("INV", i), InvoiceDate: c.dates[i], Vendor: "V", VendorSKU: fmt.Sprint("S", i),
				Description: "Milk", Quantity: "1", Unit: "cs", UnitPrice: "2", Pack: p}
			want = append(want, v)
			fmt.Fprintf(&csvIn, "%s,%s,V,%s,Milk,1,cs,2,%s\n", v.InvoiceNumber, v.InvoiceDate, v.VendorSKU, p)
			fmt.Fprintf(&jsonIn, `{"invoice_number":%q,"invoice_date":%q,"vendor":"V","vendor_sku":%q,"description":"Milk","quantity":1,"unit":"cs","unit_price":2,"pack":%q}`+"\n",
				v.InvoiceNumber, v.InvoiceDate, v.VendorSKU, p)
		}
		for _, in := range []struct {
			format Format
			text   string
		}{{CSV, csvIn.String()}, {NDJSON, jsonIn.String()}} {
			recs := decodeAll(t, in.text, Options{Format: in.format, Account: "acct", Values: vf})
			if len(recs) != len(want) {
				t.Fatalf("%s: %d records, want %d", in.format, len(recs), len(want))
			}
			for i := range want {
				if bad := packs[i] == "large"; bad != strings.Contains(fmt.Sprint(recs[i].Err), "must be a pack size") {
					t.Errorf("%s %s, line %d: pack %q: %v", in.format, c.format, i, packs[i], recs[i].Err)
				}
				line, err := Validate(&want[i], Accounts{Default: "acct"}, vf)
				if fmt.Sprint(recs[i].Err) != fmt.Sprint(err) || recs[i].Valid != line {
					t.Errorf("%s %s, line %d (date %q, pack %q): read %+v, %v; alone %+v, %v", in.format, c.format, i,
						c.dates[i], packs[i], recs[i].Valid, recs[i].Err, line, err)
				}
			}
		}
	}
}
