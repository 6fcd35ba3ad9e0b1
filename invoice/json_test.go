package invoice

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// obj is a valid record as a compact JSON object; extra members, already
// encoded, go at its end.
func obj(invoice string, extra ...string) string {
	s := `{"invoice_number":"` + invoice + `","invoice_date":"2026-01-02","vendor":"V","description":"Milk","quantity":1,"unit_price":2`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// decodeJSON decodes input to the end and returns the records read and the
// error that ended decoding (nil at io.EOF). A NewDecoder error is returned
// with no records.
func decodeJSON(t *testing.T, f Format, input string, opts Options) ([]*Record, error) {
	t.Helper()
	opts.Format = f
	if opts.Account == "" {
		opts.Account = "acct"
	}
	d, err := NewDecoder(strings.NewReader(input), opts)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []*Record
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// mustDecode is decodeJSON for inputs that must decode to the end.
func mustDecode(t *testing.T, f Format, input string, opts Options) []*Record {
	t.Helper()
	recs, err := decodeJSON(t, f, input, opts)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return recs
}

func lines(recs []*Record) []int {
	out := make([]int, len(recs))
	for i, r := range recs {
		out[i] = r.Line
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestJSONExactDecimals(t *testing.T) {
	rec := `{"invoice_number":"A1","invoice_date":"2026-01-02","vendor":"V","vendor_sku":12.5,"description":"Milk",` +
		`"quantity":%Q,"unit_price":%P}`
	tests := []struct {
		name, quantity, price string
		wantQ, wantP          string
		european              bool // --decimal-separator , --thousands-separator .
	}{
		{"small fraction", `0.1`, `0.1`, "0.1", "0.1", false},
		{"beyond float64 precision", `-2.125`, `123456789012.3456`, "-2.125", "123456789012.3456", false},
		{"exponent", `1e2`, `1.5E1`, "100", "15", false},
		{"strings", `"0.3"`, `" 7.0700 "`, "0.3", "7.07", false},
		// A number has a point whatever the input's separators; a string
		// is written in them.
		{"numbers, European input", `1.250`, `0.125`, "1.25", "0.125", true},
		{"exponent, European input", `1.5e1`, `2E-1`, "15", "0.2", true},
		{"strings, European input", `"1.250,5"`, `"0,125"`, "1250.5", "0.125", true},
	}
	for _, tc := range tests {
		for _, f := range []Format{JSON, NDJSON} {
			t.Run(tc.name+"/"+string(f), func(t *testing.T) {
				o := strings.NewReplacer("%Q", tc.quantity, "%P", tc.price).Replace(rec)
				in := o + "\n"
				if f == JSON {
					in = "[" + o + "]"
				}
				var opts Options
				if tc.european {
					var err error
					if opts.Values, err = NewValueFormat("", ",", "."); err != nil {
						t.Fatal(err)
					}
				}
				recs := mustDecode(t, f, in, opts)
				if len(recs) != 1 || recs[0].Err != nil {
					t.Fatalf("got %d records, err %v", len(recs), recs[0].Err)
				}
				v := recs[0].Valid
				if v.Quantity.String() != tc.wantQ || v.UnitPrice.String() != tc.wantP {
					t.Errorf("quantity %s, unit_price %s; want %s, %s", v.Quantity, v.UnitPrice, tc.wantQ, tc.wantP)
				}
				if v.Account != "acct" || v.Description != "Milk" || v.InvoiceDate != "2026-01-02" || v.VendorSKU != "12.5" {
					t.Errorf("line = %+v", v)
				}
			})
		}
	}
}

func TestJSONLines(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   []int
	}{
		{"array, one per line", JSON, "[\n" + obj("A") + ",\n" + obj("B") + "\n]\n", []int{2, 3}},
		{"array, one line", JSON, "[" + obj("A") + "," + obj("B") + "]", []int{1, 1}},
		{"array, objects spanning lines", JSON,
			"[\n  {\n    \"invoice_number\": \"A\",\n    \"invoice_date\": \"2026-01-02\",\n    \"vendor\": \"V\",\n" +
				"    \"description\": \"Milk\",\n    \"quantity\": 1,\n    \"unit_price\": 2\n  },\n" +
				"  {\n    \"invoice_number\": \"B\", \"invoice_date\": \"2026-01-02\", \"vendor\": \"V\",\n" +
				"    \"description\": \"Milk\", \"quantity\": 1, \"unit_price\": 2\n  }\n]\n",
			[]int{2, 10}},
		{"array, blank lines and comma before the brace", JSON,
			"\n\n[\n\n" + obj("A") + "\n\n\n,\n\n" + obj("B") + "\n,\r\n\r\n   " + obj("C") + "]", []int{5, 10, 13}},
		{"array, brace after a multi-line string value", JSON,
			"[" + obj("A", `"note":"a\nb"`) + ",\n" + obj("B") + "]", []int{1, 2}},
		{"array, CRLF", JSON, "[\r\n" + obj("A") + ",\r\n" + obj("B") + "\r\n]\r\n", []int{2, 3}},
		{"ndjson", NDJSON, obj("A") + "\n" + obj("B") + "\n", []int{1, 2}},
		{"ndjson, blank lines", NDJSON, "\n" + obj("A") + "\n\n  \t \n" + obj("B") + "\n\n", []int{2, 5}},
		{"ndjson, CRLF and no final newline", NDJSON, obj("A") + "\r\n\r\n" + obj("B"), []int{1, 3}},
		{"ndjson, only blank lines", NDJSON, "\n \n\r\n", []int{}},
		{"ndjson, empty", NDJSON, "", []int{}},
		{"ndjson, BOM", NDJSON, "\xef\xbb\xbf" + obj("A") + "\n", []int{1}},
		{"array, BOM", JSON, "\xef\xbb\xbf[" + obj("A") + "]", []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := mustDecode(t, tc.format, tc.in, Options{})
			for _, r := range recs {
				if r.Err != nil {
					t.Errorf("line %d: %v", r.Line, r.Err)
				}
			}
			if got := lines(recs); !equalInts(got, tc.want) {
				t.Errorf("lines = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJSONGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte("[\n" + obj("A") + "\n]"))
	_ = zw.Close()
	recs := mustDecode(t, JSON, buf.String(), Options{})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Line != 2 {
		t.Fatalf("got %+v", recs)
	}
}

func TestJSONRawIsTheInputBytes(t *testing.T) {
	el := "{ \"invoice_number\" : \"A\",\n \"extra\": [1, 2],\n\"quantity\": 1.50 }"
	recs := mustDecode(t, JSON, "[ "+el+" ]", Options{})
	if got := string(recs[0].Raw.Object); got != el {
		t.Errorf("array raw = %q, want %q", got, el)
	}
	line := ` {"invoice_number": "A", "quantity": 1.50}  `
	recs = mustDecode(t, NDJSON, line+"\r\n", Options{})
	if got, want := string(recs[0].Raw.Object), strings.TrimSpace(line); got != want {
		t.Errorf("ndjson raw = %q, want %q", got, want)
	}
}

func TestNDJSONMalformedLines(t *testing.T) {
	in := obj("A") + "\n" +
		`{"invoice_number": "B",` + "\r\n" + // cut short
		"\n" +
		`[1, 2]` + "\n" +
		`{"a":1} {"b":2}` + "\n" +
		`"just a string"` + "\n" +
		"\v\n" + // not JSON whitespace: malformed, never silently skipped
		obj("C") + "\n"
	recs := mustDecode(t, NDJSON, in, Options{})
	type want struct {
		line int
		err  string // substring; "" = valid
		raw  string
	}
	wants := []want{
		{1, "", obj("A")},
		{2, "malformed JSON: unexpected end of JSON input", `{"invoice_number": "B",`},
		{4, "the line is an array, not a JSON object", `[1, 2]`},
		{5, "malformed JSON: invalid character '{' after top-level value (at byte 9 of the line)", `{"a":1} {"b":2}`},
		{6, "the line is a string, not a JSON object", `"just a string"`},
		{7, "malformed JSON", "\v"},
		{8, "", obj("C")},
	}
	if len(recs) != len(wants) {
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Line != w.line || string(r.Raw.Object) != w.raw {
			t.Errorf("record %d: line %d raw %q, want %d %q", i, r.Line, r.Raw.Object, w.line, w.raw)
		}
		if w.err == "" {
			if r.Err != nil {
				t.Errorf("record %d: %v", i, r.Err)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(r.Err, &se) || !strings.Contains(se.Msg, w.err) {
			t.Errorf("record %d: err %v (%T), want a SyntaxError with %q", i, r.Err, r.Err, w.err)
		}
	}
}

func TestJSONArrayFatal(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantRecs int // records returned before the error
		wantLine int
		wantMsg  string
		atNewDec bool // reported by NewDecoder, before any record
	}{
		{"empty", "", 0, 0, "the file is empty", true},
		{"whitespace only", " \n\t\n", 0, 0, "the file is empty", true},
		{"object at the top", obj("A") + "\n", 0, 1, "a JSON input must be an array of objects; use --format ndjson", true},
		{"object at the top after blank lines", "\n\n" + obj("A"), 0, 3, "must be an array of objects", true},
		{"string at the top", `"x"`, 0, 1, "must be an array of objects", true},
		{"garbage at the top", "\nnope", 0, 2, "JSON syntax error: invalid character 'o' in literal null", true},
		{"bad value in the third element", "[\n" + obj("A") + ",\n" + obj("B") + ",\n{\"invoice_number\":\n  \"C\", \"quantity\": 1x}\n]", 2, 5,
			"JSON syntax error: invalid character 'x' after object key:value pair", false},
		{"raw newline in a string", "[\n" + obj("A") + ",\n{\"description\": \"a\nb\"}]", 1, 3, "invalid character '\\n' in string literal", false},
		{"missing comma", "[\n" + obj("A") + "\n\n" + obj("B") + "]", 1, 4, "invalid character '{' after array element", false},
		{"trailing comma", "[\n" + obj("A") + ",\n]", 1, 3, "invalid character ']' looking for beginning of value", false},
		{"leading comma", "[\n,\n" + obj("A") + "]", 0, 2, "invalid character ','", false},
		{"brace closes the array", "[\n" + obj("A") + "\n}", 1, 3, "invalid character '}' after array element", false},
		{"unclosed array", "[\n" + obj("A") + ",\n" + obj("B") + "\n", 2, 3, "unexpected end of input: the array is not closed", false},
		{"cut inside an element", "[\n" + obj("A") + ",\n{\"invoice_number\":\n\"B\"", 1, 4, "unexpected end of input in the array element that starts on line 3", false},
		{"trailing data", "[\n" + obj("A") + "\n]\n\n x", 1, 5, "unexpected data after the closing ]", false},
		{"second array", "[" + obj("A") + "][]", 1, 1, "unexpected data after the closing ]", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewDecoder(strings.NewReader(tc.in), Options{Format: JSON}); (err != nil) != tc.atNewDec {
				t.Errorf("NewDecoder error = %v, want one: %v", err, tc.atNewDec)
			}
			recs, err := decodeJSON(t, JSON, tc.in, Options{})
			var fe *FatalError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want a *FatalError", err, err)
			}
			if len(recs) != tc.wantRecs {
				t.Errorf("got %d records before the error, want %d", len(recs), tc.wantRecs)
			}
			for _, r := range recs {
				if r.Err != nil {
					t.Errorf("record at line %d: %v", r.Line, r.Err)
				}
			}
			if fe.Line != tc.wantLine || !strings.Contains(fe.Msg, tc.wantMsg) {
				t.Errorf("got line %d %q, want line %d and %q", fe.Line, fe.Msg, tc.wantLine, tc.wantMsg)
			}
		})
	}
}

func TestJSONArrayErrorIsSticky(t *testing.T) {
	d, err := NewDecoder(strings.NewReader("["+obj("A")+",x]"), Options{Format: JSON})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	_, err1 := d.Next()
	_, err2 := d.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("errors %v then %v, want the same error again", err1, err2)
	}
}

func TestJSONNonObjectElements(t *testing.T) {
	in := "[\n1,\n\"x\",\n[{}],\nnull,\ntrue,\n" + obj("A") + "\n]"
	recs := mustDecode(t, JSON, in, Options{})
	wants := []string{
		"array element 1 is a number, not a JSON object",
		"array element 2 is a string, not a JSON object",
		"array element 3 is an array, not a JSON object",
		"array element 4 is null, not a JSON object",
		"array element 5 is a boolean, not a JSON object",
		"",
	}
	if len(recs) != len(wants) {
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Line != i+2 {
			t.Errorf("record %d: line %d, want %d", i, r.Line, i+2)
		}
		var se *SyntaxError
		switch {
		case w == "" && r.Err != nil:
			t.Errorf("record %d: %v", i, r.Err)
		case w != "" && (!errors.As(r.Err, &se) || se.Msg != w):
			t.Errorf("record %d: err %v, want SyntaxError %q", i, r.Err, w)
		}
	}
	if string(recs[2].Raw.Object) != "[{}]" {
		t.Errorf("raw of a non-object = %q", recs[2].Raw.Object)
	}
}

func TestJSONKeys(t *testing.T) {
	base := `"invoice_date":"2026-01-02","vendor":"V","quantity":1,"unit_price":2`
	tests := []struct {
		name    string
		object  string
		columns ColumnMap
		desc    string // want Valid.Description
		invoice string // want Valid.InvoiceNumber
		err     string // want this error instead
	}{
		{"any case, trimmed", `{" Invoice_Number ":"A","DESCRIPTION":"Milk",` + base + `}`, nil, "Milk", "A", ""},
		{"unknown keys ignored", `{"invoice_number":"A","description":"Milk","note":{"deep":[true]},"flag":false,` + base + `}`, nil, "Milk", "A", ""},
		{"escaped key", `{"invoice_n\u0075mber":"A","description":"Milk",` + base + `}`, nil, "Milk", "A", ""},
		{"renamed", `{"Invoice":"A","Item Name":"Milk",` + base + `}`,
			ColumnMap{"item name": FieldDescription, "invoice": FieldInvoiceNumber}, "Milk", "A", ""},
		{"rename wins over the field's own name, after", `{"invoice_number":"A","description":"old","item name":"Milk",` + base + `}`,
			ColumnMap{"item name": FieldDescription}, "Milk", "A", ""},
		{"rename wins over the field's own name, before", `{"invoice_number":"A","item name":"Milk","Description":true,` + base + `}`,
			ColumnMap{"item name": FieldDescription}, "Milk", "A", ""},
		{"same field twice", `{"invoice_number":"A","description":"Milk","Vendor":"W",` + base + `}`, nil, "", "",
			`vendor: is given twice, by keys "Vendor" and "vendor"`},
		{"same key twice", `{"invoice_number":"A","description":"Milk","description":"Milk",` + base + `}`, nil, "", "",
			`description: is given twice, by keys "description" and "description"`},
		{"two renamed keys, one field", `{"invoice_number":"A","item":"Milk","Item ":"Milk",` + base + `}`,
			ColumnMap{"item": FieldDescription}, "", "", `description: is given twice, by keys "item" and "Item "`},
		{"missing key", `{"invoice_number":"A",` + base + `}`, nil, "", "", "description: is required and must not be empty"},
		{"null", `{"invoice_number":"A","description":null,` + base + `}`, nil, "", "", "description: is required and must not be empty"},
		{"boolean", `{"invoice_number":"A","description":true,` + base + `}`, nil, "", "", `description: must be a string or a number (got "true")`},
		{"object", `{"invoice_number":"A","description":{"a": 1},` + base + `}`, nil, "", "", `description: must be a string or a number (got "{\"a\":1}")`},
		{"array", `{"invoice_number":"A","description":[],` + base + `}`, nil, "", "", `description: must be a string or a number (got "[]")`},
		{"number as text", `{"invoice_number":12345,"description":"Milk",` + base + `}`, nil, "Milk", "12345", ""},
		{"escapes decoded", `{"invoice_number":"A","description":"Caf\u00e9 \"au lait\"",` + base + `}`, nil, `Café "au lait"`, "A", ""},
		{"escaped NUL", `{"invoice_number":"A","description":"a\u0000b",` + base + `}`, nil, "", "", "description: must not contain control characters other than tab (it has U+0000)"},
		{"invalid UTF-8", `{"invoice_number":"A","description":"a` + "\xff" + `b",` + base + `}`, nil, "", "", "description: must be valid UTF-8"},
		{"invalid UTF-8 with escapes", `{"invoice_number":"A","description":"\"a` + "\xff" + `b",` + base + `}`, nil, "", "", "description: must be valid UTF-8"},
		{"account overrides", `{"invoice_number":"A","description":"Milk","Account":" other ",` + base + `}`, nil, "Milk", "A", ""},
	}
	for _, tc := range tests {
		for _, f := range []Format{JSON, NDJSON} {
			t.Run(tc.name+"/"+string(f), func(t *testing.T) {
				in := tc.object + "\n"
				if f == JSON {
					in = "[" + tc.object + "]"
				}
				recs := mustDecode(t, f, in, Options{Columns: tc.columns, AllowAccounts: []string{"other"}})
				if len(recs) != 1 {
					t.Fatalf("got %d records", len(recs))
				}
				r := recs[0]
				if tc.err != "" {
					var fe *FieldError
					if !errors.As(r.Err, &fe) || !strings.HasPrefix(r.Err.Error(), tc.err) {
						t.Errorf("err = %v (%T), want FieldError %q", r.Err, r.Err, tc.err)
					}
					return
				}
				if r.Err != nil {
					t.Fatalf("err = %v", r.Err)
				}
				if r.Valid.Description != tc.desc || r.Valid.InvoiceNumber != tc.invoice {
					t.Errorf("got %+v", r.Valid)
				}
			})
		}
	}
	recs := mustDecode(t, NDJSON, `{"invoice_number":"A","description":"Milk","Account":" other ",`+base+`}`, Options{AnyAccount: true})
	if recs[0].Valid.Account != "other" {
		t.Errorf("account = %q, want the record's own", recs[0].Valid.Account)
	}
	// An object value spanning lines is shown compacted in the message.
	recs = mustDecode(t, JSON, "[{\"invoice_number\":\"A\",\"vendor\": {\n  \"a\": [1,\n 2]\n}}]", Options{})
	if got, want := errString(recs[0].Err), `vendor: must be a string or a number (got "{\"a\":[1,2]}")`; got != want {
		t.Errorf("err = %s, want %s", got, want)
	}
}

func TestNDJSONLongLine(t *testing.T) {
	big := strings.Repeat("x", 200<<10) // far beyond bufio.Scanner's 64 KiB
	in := obj("A", `"note":"`+big+`"`) + "\n" + obj("B") + "\n" + `{"broken": "` + big + "\n" + obj("C")
	recs := mustDecode(t, NDJSON, in, Options{})
	if len(recs) != 4 {
		t.Fatalf("got %d records, want 4", len(recs))
	}
	if recs[0].Err != nil || recs[1].Err != nil || recs[3].Err != nil || recs[2].Err == nil {
		t.Errorf("errors: %v, %v, %v, %v", recs[0].Err, recs[1].Err, recs[2].Err, recs[3].Err)
	}
	if got := lines(recs); !equalInts(got, []int{1, 2, 3, 4}) {
		t.Errorf("lines = %v", got)
	}
	if len(recs[0].Raw.Object) < len(big) {
		t.Errorf("raw of the long line has %d bytes", len(recs[0].Raw.Object))
	}
	recs = mustDecode(t, JSON, "[\n"+obj("A", `"note":"`+big+`"`)+",\n"+obj("B")+"]", Options{})
	if got := lines(recs); !equalInts(got, []int{2, 3}) {
		t.Errorf("array lines = %v", got)
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestJSONReadErrorIsNotASyntaxError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, f := range []Format{JSON, NDJSON} {
		t.Run(string(f), func(t *testing.T) {
			in := "[" + obj("A") + ",\n{\"invoice_number\""
			if f == NDJSON {
				in = obj("A") + "\n{\"invoice_number\""
			}
			d, err := NewDecoder(&failingReader{data: in, err: boom}, Options{Format: f})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for {
				_, err = d.Next()
				if err != nil {
					break
				}
			}
			if !errors.Is(err, boom) {
				t.Errorf("err = %v, want the reader's error", err)
			}
		})
	}
}

func TestJSONDecoderMethods(t *testing.T) {
	for _, f := range []Format{JSON, NDJSON} {
		d, err := NewDecoder(strings.NewReader("["+obj("A")+"]"), Options{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		if d.Format() != f || d.Header() != nil {
			t.Errorf("%s: Format %q, Header %q", f, d.Format(), d.Header())
		}
		if err := d.Close(); err != nil {
			t.Error(err)
		}
		if err := d.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := d.Next(); !errors.Is(err, io.EOF) {
			t.Errorf("%s: Next after Close = %v, want io.EOF", f, err)
		}
	}
}

func TestJSONRejectFormat(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		line int
		want string
	}{
		{"keys and values as written, in order", `{ "Vendor" : "Caf\u00e9",  "quantity": 1.50, "z": null, "a": "<&>" }`, 3,
			`{"Vendor":"Caf\u00e9","quantity":1.50,"z":null,"a":"<&>","_line":3,"_error":"why <here>"}`},
		{"nested values compacted onto one line", "{\"n\": {\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}}", 7,
			`{"n":{"a":[1,2],"b":"x y"},"_line":7,"_error":"why <here>"}`},
		{"old _line and _error replaced", `{"_line":2,"a":1," _Error ":"old","_error":"older"}`, 9,
			`{"a":1,"_line":9,"_error":"why <here>"}`},
		{"empty object", `{}`, 1, `{"_line":1,"_error":"why <here>"}`},
		{"malformed line", `{"a": 1,` + "\t\"b\"", 4, `{"_raw":"{\"a\": 1,\t\"b\"","_line":4,"_error":"why <here>"}`},
		{"not an object", `[1,2]`, 5, `{"_raw":"[1,2]","_line":5,"_error":"why <here>"}`},
		{"nothing", ``, 6, `{"_raw":"","_line":6,"_error":"why <here>"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := jsonReject(&Record{Line: tc.line, Raw: RawRecord{Object: []byte(tc.raw)}}, 0, "why <here>")
			if string(got) != tc.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

// TestJSONRejectsRoundTrip imports rejects files again, twice: the records
// must come back with the same values and errors, and where they came
// from; _run, _record, _line and _error must be replaced, never repeated.
func TestJSONRejectsRoundTrip(t *testing.T) {
	input := "[\n" +
		obj("A") + ",\n" + // valid: re-encoded anyway, to check values survive
		`{"invoice_number":"B","invoice_date":"2026-02-30","vendor":"V","description":"Milk","quantity":1,"unit_price":2,"note":{"k":` + "\n" + `[1, 2]}}` + ",\n" +
		`{"invoice_number":"C","invoice_date":"2026-01-02","vendor":"V","description":"Caf\u00e9 <b>","quantity":0.1234,"unit_price":123456789012.3456}` + ",\n" +
		`{"Invoice_Number":"D","invoice_date":"2026-01-02","vendor":"V","description":"x","quantity":"1","unit_price":true,"_line":"old","_error":"old"}` + ",\n" +
		"42\n]"
	first := mustDecode(t, JSON, input, Options{})
	if len(first) != 5 {
		t.Fatalf("got %d records", len(first))
	}
	ndjson := "{\"invoice_number\":\"E\"\n" + obj("F") + "\n"
	first = append(first, mustDecode(t, NDJSON, ndjson, Options{})...)

	prev := first
	for round := 1; round <= 2; round++ {
		var rejects bytes.Buffer
		for _, r := range prev {
			line := jsonReject(r, int64(round), "reason: "+errString(r.Err))
			if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) || !json.Valid(line) {
				t.Fatalf("round %d: not one JSON line: %q", round, line)
			}
			if n := bytes.Count(line, []byte(`"_line":`)); n != 1 {
				t.Errorf("round %d: _line %d times in %s", round, n, line)
			}
			for _, key := range []string{`"_error":`, `"_run":`, `"_record":`} {
				if n := bytes.Count(line, []byte(key)); n != 1 {
					t.Errorf("round %d: %s %d times in %s", round, key, n, line)
				}
			}
			rejects.Write(line)
		}
		again := mustDecode(t, NDJSON, rejects.String(), Options{})
		if len(again) != len(first) {
			t.Fatalf("round %d: %d records, want %d", round, len(again), len(first))
		}
		for i, r := range again {
			o := first[i]
			if r.Line != i+1 {
				t.Errorf("round %d record %d: line %d", round, i, r.Line)
			}
			if raw := o.Raw.Object; raw[0] == '{' && json.Valid(raw) && r.Origin != (Origin{Run: int64(round), Record: prev[i].Seq}) {
				t.Errorf("round %d record %d: origin %+v, want run %d record %d", round, i, r.Origin, round, prev[i].Seq)
			}
			if o.Raw.Object[0] != '{' || !json.Valid(o.Raw.Object) {
				// Kept as "_raw": the record reads back as an object with
				// none of the fields.
				if !strings.Contains(errString(r.Err), "invoice_number: is required") {
					t.Errorf("round %d record %d: err %v", round, i, r.Err)
				}
				continue
			}
			if errString(r.Err) != errString(o.Err) || r.Valid != o.Valid && !linesEqual(r.Valid, o.Valid) {
				t.Errorf("round %d record %d: got %+v %v, want %+v %v", round, i, r.Valid, r.Err, o.Valid, o.Err)
			}
		}
		prev = again
	}
}

func linesEqual(a, b Line) bool {
	return a.Account == b.Account && a.InvoiceNumber == b.InvoiceNumber && a.InvoiceDate == b.InvoiceDate &&
		a.Vendor == b.Vendor && a.VendorSKU == b.VendorSKU && a.Description == b.Description &&
		a.Quantity.Decimal().Equal(b.Quantity.Decimal()) && a.Unit == b.Unit && a.UnitPrice.Decimal().Equal(b.UnitPrice.Decimal())
}

func TestRejectEncoderJSON(t *testing.T) {
	d, err := NewDecoder(strings.NewReader(`{"a":1}`+"\n"), Options{Format: NDJSON})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rec, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	e := NewRejectEncoder(LayoutOf(d))
	if e.Header() != nil {
		t.Errorf("header = %q, want none", e.Header())
	}
	got := string(e.Encode(rec, 0, rec.Err.Error()))
	want := `{"a":1,"_line":1,"_error":"invoice_number: is required and must not be empty"}` + "\n"
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestObjectMembers(t *testing.T) {
	tests := []struct {
		in   string
		want []string // key=value, raw
		ok   bool
	}{
		{`{}`, nil, true},
		{` { } `, nil, true},
		{`{"a":1}`, []string{`"a"=1`}, true},
		{"{ \"a\" :\n\"x,}\\\"]\" , \"b\\\"\": [ {\"c\": \"}\"} ] ,\"d\":-1.5e+3,\"e\":true}",
			[]string{`"a"="x,}\"]"`, `"b\""=[ {"c": "}"} ]`, `"d"=-1.5e+3`, `"e"=true`}, true},
		{`[]`, nil, false},
		{`"x"`, nil, false},
		{``, nil, false},
	}
	for _, tc := range tests {
		ms, ok := objectMembers([]byte(tc.in), nil)
		var got []string
		for _, m := range ms {
			got = append(got, string(m.key)+"="+string(m.value))
		}
		if ok != tc.ok || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%q: got %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestJSONTooDeep checks encoding/json's nesting limit: valid JSON nested
// deeper is that record's reject, in NDJSON and in an array, and the
// records after it are read.
func TestJSONTooDeep(t *testing.T) {
	deep := `{"x":` + strings.Repeat("[", 10005) + strings.Repeat("]", 10005) + "}"
	recs := mustDecode(t, NDJSON, deep+"\n"+obj("A")+"\n", Options{})
	if len(recs) != 2 || !strings.Contains(errString(recs[0].Err), "exceeded max depth") || recs[1].Err != nil {
		t.Errorf("ndjson: got %d records: %v", len(recs), recs)
	}
	recs = mustDecode(t, JSON, "[\n"+obj("A")+",\n\n"+deep+"\n, "+obj("B")+"]", Options{})
	if len(recs) != 3 || recs[0].Err != nil || recs[2].Err != nil || recs[1].Line != 4 ||
		!strings.Contains(errString(recs[1].Err), "array element 2 is nested deeper than 10000 levels") || len(recs[1].Raw.Object) > keptOfLongRecord {
		t.Errorf("array: %d records: %v", len(recs), recs)
	}
	// Deeper than the skipper's stack of brackets (maxSkipDepth): still
	// the element's reject, not the end of the file.
	deeper := `{"x":` + strings.Repeat("[", 2*maxSkipDepth) + strings.Repeat("]", 2*maxSkipDepth) + "}"
	recs = mustDecode(t, JSON, "[\n"+obj("A")+",\n"+deeper+",\n"+obj("B")+"]", Options{})
	if len(recs) != 3 || recs[0].Err != nil || recs[2].Err != nil || !strings.Contains(errString(recs[1].Err), "array element 2 is nested deeper") {
		t.Errorf("array, %d levels: %d records: %v", 2*maxSkipDepth, len(recs), recs)
	}
}

func benchmarkDecode(b *testing.B, f Format) {
	var in strings.Builder
	if f == JSON {
		in.WriteString("[\n")
	}
	for i := 0; i < 10000; i++ {
		if f == JSON && i > 0 {
			in.WriteString(",\n")
		}
		in.WriteString(`{"invoice_number":"INV-1","invoice_date":"2026-01-02","vendor":"Acme Foods","vendor_sku":"SKU-123",` +
			`"description":"Whole milk, 1 gal","quantity":12.5,"unit":"gal","unit_price":"3.4900","note":"x"}`)
		if f == NDJSON {
			in.WriteString("\n")
		}
	}
	if f == JSON {
		in.WriteString("\n]\n")
	}
	benchmarkDecodeOf(b, f, in.String())
}

// benchmarkDecodeOf decodes data, in format f, once per loop; every record
// must be valid.
func benchmarkDecodeOf(b *testing.B, f Format, data string) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := NewDecoder(strings.NewReader(data), Options{Format: f, Account: "a"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := d.Next()
			if err != nil {
				break
			}
			if rec.Err != nil {
				b.Fatal(rec.Err)
			}
		}
	}
}

func BenchmarkDecodeJSON(b *testing.B)   { benchmarkDecode(b, JSON) }
func BenchmarkDecodeNDJSON(b *testing.B) { benchmarkDecode(b, NDJSON) }

// An NDJSON line over MaxRecordBytes is rejected, kept cut to its first
// bytes, and the lines around it are read (SPEC §16); memory is bounded by
// the limit, not by the line.
func TestNDJSONLineOverTheLimit(t *testing.T) {
	good := `{"invoice_number":"A","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}`
	long := `{"invoice_number":"B","description":"` + strings.Repeat("é", 3<<20) + `"}`
	for _, end := range []string{"\n", ""} {
		recs := mustDecode(t, NDJSON, good+"\n"+long+"\n"+good+"\n"+long[:100]+strings.Repeat("x", 2<<20)+end, Options{MaxRecordBytes: 1 << 20})
		if len(recs) != 4 || recs[0].Err != nil || recs[2].Err != nil {
			t.Fatalf("got %d records: %v", len(recs), recs)
		}
		for _, i := range []int{1, 3} {
			r := recs[i]
			if r.Err == nil || !strings.Contains(r.Err.Error(), "more than --max-record-bytes 1048576") || r.Line != i+1 {
				t.Errorf("record %d (line %d): %v", i, r.Line, r.Err)
			}
			if n := len(r.Raw.Object); n > 4<<10 || n < 4000 || !utf8.Valid(r.Raw.Object) {
				t.Errorf("record %d kept %d bytes (valid UTF-8: %v), want its first 4 KiB", i, n, utf8.Valid(r.Raw.Object))
			}
		}
	}
	// A line of exactly the limit is read.
	exact := good[:len(good)-1] + `,"notes":"` + strings.Repeat("n", 100) + `"}`
	if recs := mustDecode(t, NDJSON, exact+"\n", Options{MaxRecordBytes: len(exact)}); recs[0].Err != nil {
		t.Errorf("a line of exactly the limit: %v", recs[0].Err)
	}
}

// An element of a JSON array over MaxRecordBytes is rejected, kept cut to
// its first bytes, and the elements after it are read: its end is found
// past brackets and escaped quotes inside its strings, for an object and a
// string alike, wherever the read ahead stops.
func TestJSONArrayElementOverTheLimit(t *testing.T) {
	good := func(n string) string {
		return `{"invoice_number":"` + n + `","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}`
	}
	tricky := strings.Repeat(`x]}\"{[`, 40<<10)
	for _, size := range []int{1 << 10, 100 << 10} {
		in := "[" + good("A") + ",\n" +
			`{"invoice_number":"B","notes":["` + tricky + `"],"description":"Milk"}` + " ,\n" +
			good("C") + ",\n" +
			`"` + tricky + `"` + ",\n" +
			good("D") + "\n]\n"
		recs := mustDecode(t, JSON, in, Options{MaxRecordBytes: size})
		if len(recs) != 5 {
			t.Fatalf("limit %d: got %d records, want 5", size, len(recs))
		}
		for i, want := range []string{"A", "", "C", "", "D"} {
			r := recs[i]
			if r.Line != i+1 {
				t.Errorf("limit %d, record %d: line %d, want %d", size, i, r.Line, i+1)
			}
			if want != "" {
				if r.Err != nil || r.Valid.InvoiceNumber != want {
					t.Errorf("limit %d, record %d: %q, %v; want %s, valid", size, i, r.Valid.InvoiceNumber, r.Err, want)
				}
				continue
			}
			if r.Err == nil || !strings.Contains(r.Err.Error(), fmt.Sprintf("more than --max-record-bytes %d", size)) ||
				len(r.Raw.Object) != 4<<10 {
				t.Errorf("limit %d, record %d: kept %d bytes, %v; want rejected, cut to 4 KiB", size, i, len(r.Raw.Object), r.Err)
			}
		}
	}
	// What follows an element skipped must still be a comma or the end.
	in := "[" + `"` + strings.Repeat("x", 200<<10) + `" ` + good("E") + "]"
	if _, err := decodeJSON(t, JSON, in, Options{MaxRecordBytes: 1 << 10}); err == nil || !strings.Contains(err.Error(), "after array element") {
		t.Errorf("a missing comma after a skipped element: %v", err)
	}
}

// Skipping an element keeps no more than its first bytes: its newlines are
// counted, not kept. Whitespace past the bound before an element rejects
// nothing. What is skipped must still be JSON: brackets that do not match,
// and a comma before the closing bracket, stop the file.
func TestJSONArraySkipBounds(t *testing.T) {
	good := func(n string) string {
		return `{"invoice_number":"` + n + `","invoice_date":"2026-05-04","vendor":"V","description":"Milk","quantity":1,"unit_price":2}`
	}
	pretty := "{\"invoice_number\":\"B\",\"notes\":[" + strings.Repeat("\n1,", 100<<10) + "\n2]}"
	in := "[" + good("A") + ",\n" + pretty + ",\n" + good("C") + "," + strings.Repeat(" ", 200<<10) + "\n" + good("D") + "]"
	src, err := newArraySource(strings.NewReader(in), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	var bad []bool
	for {
		el, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines, bad = append(lines, el.line), append(bad, el.bad != "")
		if n := len(src.lines.nl); n > 64<<10 { // a read's worth, not the element's 100 Ki
			t.Fatalf("after line %d, %d newlines kept", el.line, n)
		}
	}
	if want := []int{1, 2, 2 + 100<<10 + 2, 2 + 100<<10 + 3}; fmt.Sprint(lines) != fmt.Sprint(want) || fmt.Sprint(bad) != "[false true false false]" {
		t.Errorf("elements on lines %v (rejected %v), want %v (only the second rejected)", lines, bad, want)
	}
	// Whitespace past the bound before a comma, and before the end.
	spaced := "[" + good("A") + strings.Repeat(" ", 200<<10) + "," + good("B") + strings.Repeat("\n", 200<<10) + "]"
	if recs := mustDecode(t, JSON, spaced, Options{MaxRecordBytes: 1 << 10}); len(recs) != 2 || recs[0].Err != nil || recs[1].Err != nil {
		t.Errorf("elements with whitespace past the bound around them: %d records, %v", len(recs), recs)
	}
	big := `"` + strings.Repeat("x", 200<<10) + `"`
	for in, want := range map[string]string{
		`[{"a":[` + big + `}]`:             "invalid character '}' closing '['",
		`[` + big + `,` + "\n]":            "invalid character ']' after , in the array",
		`[` + big + `,` + good("E") + `,]`: "invalid character ']' looking for beginning of value",
	} {
		if _, err := decodeJSON(t, JSON, in, Options{MaxRecordBytes: 1 << 10}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40s…: %v, want %q", in, err, want)
		}
	}
}

// Whitespace past the bound anywhere in an array is passed in bounded
// memory and changes nothing: an element after it is read whole, a byte
// after it is checked as the decoder would, and so is what follows the
// closing bracket.
func TestJSONArrayWhitespacePastTheBound(t *testing.T) {
	opts := Options{MaxRecordBytes: 1 << 10}
	obj := `{"invoice_number":"B","notes":"` + strings.Repeat("n", 900) + `"}`
	in := `[{"invoice_number":"A"},` + strings.Repeat(" ", 66500) + obj + "]"
	if recs := mustDecode(t, JSON, in, opts); len(recs) != 2 || len(recs[1].Raw.Object) != len(obj) || strings.Contains(fmt.Sprint(recs[1].Err), "max-record-bytes") {
		t.Errorf("an element under the bound after whitespace past it: %d records, %v", len(recs), recs)
	}
	for n := 66000; n < 67600; n += 37 {
		if _, err := decodeJSON(t, JSON, `[{"a":1}`+strings.Repeat(" ", n)+`.5]`, opts); err == nil {
			t.Fatalf("%d spaces, then .5: accepted", n)
		}
	}
	// Before the array too, where it cannot be told from what a stream
	// sends before its first byte of JSON.
	lead := strings.Repeat(" \r\n", 300<<10) + "[\n" + obj + "]"
	if recs := mustDecode(t, JSON, lead, opts); len(recs) != 1 || len(recs[0].Raw.Object) != len(obj) || recs[0].Line != 300<<10+2 ||
		strings.Contains(fmt.Sprint(recs[0].Err), "max-record-bytes") {
		t.Errorf("an element after whitespace past the bound before the array: %d records, %v", len(recs), recs)
	}
	if _, err := decodeJSON(t, JSON, strings.Repeat(" ", 70000)+"{}", opts); err == nil || !strings.Contains(err.Error(), "must be an array") {
		t.Errorf("an object after whitespace past the bound: %v", err)
	}
	if _, err := decodeJSON(t, JSON, "[]"+strings.Repeat(" ", 70000)+"garbage", opts); err == nil || !strings.Contains(err.Error(), "after the closing ]") {
		t.Errorf("garbage after whitespace past the closing bracket: %v", err)
	}
	src, err := newArraySource(strings.NewReader(`[{"a":1}`+strings.Repeat("\n", 300<<10)+"]"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = src.next()
	}
	if !errors.Is(err, io.EOF) || len(src.lines.nl) > 64<<10 {
		t.Errorf("after 300 Ki newlines: %v, %d newlines kept", err, len(src.lines.nl))
	}
}

// An over-long element cut short by the end of the input names the line
// it ends on, even when its last byte is a newline.
func TestJSONArrayElementCutByTheEnd(t *testing.T) {
	_, err := decodeJSON(t, JSON, `["`+strings.Repeat("x", 70000)+"\n", Options{MaxRecordBytes: 1 << 10})
	var fe *FatalError
	if !errors.As(err, &fe) || fe.Line != 1 || !strings.Contains(fe.Msg, "unexpected end of input") {
		t.Errorf("got %v; want unexpected end of input on line 1", err)
	}
}
