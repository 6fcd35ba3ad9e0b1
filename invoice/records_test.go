package invoice

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// A nested API export: records two arrays down, each with the members of
// the objects around it, the nearest first; keys by synonym.
func TestRecordsNested(t *testing.T) {
	in := `{
  "supplier": "Baldor",
  "account": "acme",
  "invoices": [
    {"invoiceNo": "B-1", "invoiceDate": "2026-11-28",
     "lines": [
       {"description": "Micro Greens", "qty": 2, "unitPrice": "12.00"},
       {"description": "Shiso", "qty": 1, "unitPrice": 9, "supplier": "Baldor NYC"},
       "not an object"
     ]},
    {"invoiceNo": "B-2", "invoiceDate": "2026-11-29", "notes": {"x": 1},
     "lines": [{"description": "Ramps", "qty": 3, "unitPrice": 4.5}]}
  ]
}
`
	path, err := ParseRecordsPath("invoices[].lines[]")
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeAll(t, in, Options{Format: JSON, Records: path, Account: "acme"})
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	want := []struct {
		line              int
		number, vendor, d string
	}{
		{7, "B-1", "Baldor", "Micro Greens"},
		{8, "B-1", "Baldor NYC", "Shiso"},
		{9, "", "", ""},
		{12, "B-2", "Baldor", "Ramps"},
	}
	for i, w := range want {
		r := recs[i]
		if r.Line != w.line {
			t.Errorf("record %d: line %d, want %d", i, r.Line, w.line)
		}
		if w.number == "" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "not a JSON object") {
				t.Errorf("record %d: %v, want it rejected as no object", i, r.Err)
			}
			continue
		}
		if r.Err != nil {
			t.Errorf("record %d: %v", i, r.Err)
			continue
		}
		if v := r.Valid; v.InvoiceNumber != w.number || v.Vendor != w.vendor || v.Description != w.d || v.Account != "acme" {
			t.Errorf("record %d: %+v", i, v)
		}
	}
	// The record kept for the rejects file stands on its own.
	if raw := string(recs[0].Raw.Object); !strings.Contains(raw, `"invoiceNo":"B-1"`) || !strings.Contains(raw, `"supplier":"Baldor"`) {
		t.Errorf("record 0 as kept: %s", raw)
	}
}

func TestRecordsErrors(t *testing.T) {
	for _, c := range []struct{ path, in, want string }{
		{"invoices[].lines[]", `[1]`, "must be an object"},
		{"invoices[].lines[]", `{"invoices": {"lines": []}}`, `"invoices" is not an array`},
		{"invoices[].lines[]", `{"invoices": [{"lines": [{"a": 1}]}, 7]}`, "is not an object"},
		{"invoices[].lines[]", `{"invoices": [{"lines": [{"a": 1}`, "unexpected end of input"},
		{"invoices[].lines[]", `{"invoices": []} {}`, "unexpected data after the document"},
		{"[].lines[]", `{"lines": []}`, "must be an array"},
	} {
		path, _ := ParseRecordsPath(c.path)
		d, err := NewDecoder(strings.NewReader(c.in), Options{Format: JSON, Records: path})
		for err == nil {
			_, err = d.Next()
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s over %s: %v, want %q", c.path, c.in, err, c.want)
		}
	}
	for _, bad := range []string{"invoices", "invoices[].", "a[]b[]", ".lines[]"} {
		if _, err := ParseRecordsPath(bad); err == nil {
			t.Errorf("--records %q: no error", bad)
		}
	}
}

// A record longer than MaxRecordBytes is rejected, cut, and reading goes
// on: a string in it is never held whole, however long. A value around the
// records is dropped, however long its strings. A record long for another
// reason (a great many members) stops the file at its line, naming the
// bound, after the records before it.
func TestRecordsOverTheLimit(t *testing.T) {
	big, huge := strings.Repeat("x", 300<<10), strings.Repeat("x", 20<<20)
	members := strings.Repeat(`"a": 1, `, 10000) // past what the decoder may read ahead
	path, _ := ParseRecordsPath("invoices[].lines[]")
	first := `{"invoices": [{"lines": [{"description": "Ramps"}]},` + "\n"
	const last = `, {"lines": [{"description": "Leeks"}]}]}`
	for _, c := range []struct {
		name, in string
		long     int    // the record rejected as too long, 0 for none
		recs     int    // records read
		stop     string // what the error on line 2 says; "" for none
	}{
		{"record", first + `{"lines": [{"description": "` + big + `"}]}` + last, 2, 3, ""},
		{"huge record", first + `{"lines": [{"description": "` + huge + `"}]}` + last, 2, 3, ""},
		{"member", first + `{"notes": "` + big + `", "lines": [{"description": "Leeks"}]}]}`, 0, 2, ""},
		{"nested value", first + `{"notes": [["` + big + `"]], "lines": [{"description": "Leeks"}]}]}`, 0, 2, ""},
		{"huge member", first + `{"notes": {"pdf": "` + huge + `"}, "lines": [{"description": "Leeks"}]}]}`, 0, 2, ""},
		{"record read ahead", first + `{"notes": "` + big + `", "lines": [{"description": "` + strings.Repeat("y", 2000) + `"}]}` + last, 2, 3, ""},
		{"members read ahead", first + `{"lines": [{` + strings.Repeat(`"a": 1, `, 1000) + `"description": "Leeks"}]}` + last, 2, 3, ""},
		{"deep value", first + `{"notes": ` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `, "lines": [{"description": "Leeks"}]}]}`, 0, 1, "nested deeper than 10000 levels"},
		{"many members", first + `{"lines": [{` + members + `"description": "Leeks"}]}]}`, 0, 1, "longer than --max-record-bytes 1024"},
	} {
		d, err := NewDecoder(strings.NewReader(c.in), Options{Format: JSON, Records: path, MaxRecordBytes: 1 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var recs int
		for err == nil {
			var rec *Record
			if rec, err = d.Next(); err != nil {
				break
			}
			recs++
			tooLong := rec.Err != nil && strings.Contains(rec.Err.Error(), "more than --max-record-bytes 1024; it is kept here cut")
			if tooLong != (recs == c.long) || tooLong && (rec.Line != 2 || len(rec.Raw.Object) > keptOfLongRecord) {
				t.Errorf("%s: record %d on line %d, %d bytes kept: %v", c.name, recs, rec.Line, len(rec.Raw.Object), rec.Err)
			}
		}
		var fe *FatalError
		switch {
		case c.stop == "" && (recs != c.recs || !errors.Is(err, io.EOF)):
			t.Errorf("%s: %d records, then %v; want %d, then the end", c.name, recs, err, c.recs)
		case c.stop != "" && (recs != c.recs || !errors.As(err, &fe) || fe.Line != 2 || !strings.Contains(fe.Msg, c.stop)):
			t.Errorf("%s: %d records, then %v; want %d, then %q on line 2", c.name, recs, err, c.recs, c.stop)
		}
	}
}

// A record's own field wins over an inherited one whatever either is
// called; a path that names nothing is an error, not an empty success.
func TestRecordsOwnFieldsWin(t *testing.T) {
	in := `{"supplier": "Baldor", "invoices": [{"invoice_number": "B-1", "description": "Weekly delivery", "quantity": 12,
  "invoice_date": "2026-11-28", "notes": "` + strings.Repeat("x", 10000) + `",
  "lines": [{"Item Description": "Ramps", "Qty": 3, "price": 4}]}]}`
	path, _ := ParseRecordsPath("invoices[].lines[]")
	recs := decodeAll(t, in, Options{Format: JSON, Records: path})
	if len(recs) != 1 || recs[0].Err != nil {
		t.Fatalf("records: %d, %v", len(recs), recs[0].Err)
	}
	if v := recs[0].Valid; v.Description != "Ramps" || v.Quantity.String() != "3" || v.Vendor != "Baldor" {
		t.Errorf("record: %+v; want its own description and quantity, the supplier inherited", v)
	}
	if raw := string(recs[0].Raw.Object); strings.Contains(raw, "notes") || strings.Contains(raw, "Weekly") {
		t.Errorf("record as kept: %s; want no member that gives no field, nor the fields it gives itself", raw)
	}
	for _, bad := range []string{"invoice[].lines[]", "invoices[].line[]"} {
		p, _ := ParseRecordsPath(bad)
		d, err := NewDecoder(strings.NewReader(in), Options{Format: JSON, Records: p})
		for err == nil {
			_, err = d.Next()
		}
		if !strings.Contains(err.Error(), "check the path") {
			t.Errorf("--records %s: %v, want the path named wrong", bad, err)
		}
	}
}

// Whitespace past the bound between records stops the file, naming the
// bound, rather than being taken for the end of the array.
func TestRecordsWhitespacePastTheBound(t *testing.T) {
	path, _ := ParseRecordsPath("invoices[]")
	in := `{"invoices":[{"invoice_number":"1"}` + strings.Repeat(" ", 70000) + `,{"invoice_number":"2"}]}`
	d, err := NewDecoder(strings.NewReader(in), Options{Format: JSON, Records: path, MaxRecordBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = d.Next()
	}
	if !strings.Contains(err.Error(), "--max-record-bytes 1024 bytes of whitespace") {
		t.Errorf("got %v; want the bound named", err)
	}
}

// A field repeated in an object around the records is held once: the
// first is inherited, as before, and a document repeating it a million
// times neither fills memory nor makes each record read every repeat.
func TestRecordsRepeatedInheritedField(t *testing.T) {
	const repeats, lines = 200000, 200
	var b strings.Builder
	b.WriteString(`{"invoices": [{"invoice_number": "R-1", `)
	for i := range repeats {
		fmt.Fprintf(&b, `"vendor": "V%d", `, i)
	}
	b.WriteString(`"lines": [`)
	for i := range lines {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"description": "Ramps", "quantity": 1, "unit_price": 2, "invoice_date": "2026-11-28"}`)
	}
	b.WriteString("]}]}")
	path, _ := ParseRecordsPath("invoices[].lines[]")
	d, err := NewDecoder(strings.NewReader(b.String()), Options{Format: JSON, Records: path})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var live runtime.MemStats
	for n := 0; ; n++ {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			if n != lines {
				t.Fatalf("%d records, want %d", n, lines)
			}
			break
		}
		if err != nil || rec.Err != nil || rec.Valid.Vendor != "V0" || strings.Count(string(rec.Raw.Object), `"vendor"`) != 1 {
			t.Fatalf("record %d: vendor %q, %v %v, kept as %.200s; want V0 inherited once", n+1, rec.Valid.Vendor, err, rec.Err, rec.Raw.Object)
		}
		if n == 0 {
			runtime.GC()
			runtime.ReadMemStats(&live)
		}
	}
	// The document is 4 MB; its 200,000 vendors held as members would be
	// about 20 MB more.
	if mb := live.HeapAlloc >> 20; mb > 12 {
		t.Errorf("%d MB live after the first record, want the repeats not held", mb)
	}
}

// A value around the records longer than a field holds is never inherited
// cut short, nor passed over for a farther object's: the records that
// would inherit it are rejected, and a record giving the field itself is
// not. Cut as it was read (500 escaped characters past a 1 KiB bound, 171
// once cut) or whole but over 4 KiB, it is the same.
func TestRecordsLongInheritedValue(t *testing.T) {
	path, _ := ParseRecordsPath("invoices[].lines[]")
	const line = `"description": "Ramps", "invoice_number": "1", "invoice_date": "2026-01-02", "quantity": 1, "unit_price": 2`
	for name, c := range map[string]struct {
		vendor string
		max    int
	}{
		"cut":  {strings.Repeat(`\u00e9`, 500), 1 << 10},
		"long": {strings.Repeat("v", 5000), 0},
	} {
		in := `{"vendor": "Far", "invoices": [{"vendor": "` + c.vendor + `", "lines": [{` + line + `}, {"vendor": "Own", ` + line + `}]}]}`
		recs := decodeAll(t, in, Options{Format: JSON, Records: path, MaxRecordBytes: c.max})
		if len(recs) != 2 || !strings.Contains(errString(recs[0].Err), `would inherit "vendor" from an object around it`) {
			t.Errorf("%s: %d records, the first %q %v; want it rejected", name, len(recs), recs[0].Valid.Vendor, recs[0].Err)
		}
		if len(recs) == 2 && (recs[1].Err != nil || recs[1].Valid.Vendor != "Own") {
			t.Errorf("%s: the record with its own vendor: %q %v", name, recs[1].Valid.Vendor, recs[1].Err)
		}
	}
}
