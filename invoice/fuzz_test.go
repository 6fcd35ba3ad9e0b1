package invoice

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// The fuzz targets feed arbitrary bytes to NewDecoder and check what must
// hold for any input: no panic, lines that start at 1 and never go back,
// every record either valid or rejected with a reason, and rejects that can
// be written (and, for JSON, read back to the same result).
//
//	go test ./invoice/ -run '^$' -fuzz '^FuzzJSON$' -fuzztime 60s

func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		header + "A,2026-01-02,V,S1,Milk,1,gal,2\n",
		"\xef\xbb\xbf" + header + "A,2026-01-02,V,S1,\"Cheese,\r\nshredded\",2,lb,3\r\n\r\nB,2026-01-02,V,,x,-1.5,,0\r\n",
		header + "A,2026-01-02,V,S1,\"bad \"quote\",1,gal,2\nB,2026-13-02,V,S1,Milk,1\n",
		"Invoice_Number;Invoice_Date;Vendor;Description;Quantity;Unit_Price;_line;_error\nA;2026-01-02;V;x;1e2;0.0001;3;old\n",
		"invoice_number,invoice_date,vendor,description,quantity,unit_price,Vendor\n",
		"",
		gzipped(header + "A,2026-01-02,V,S1,Milk,1,gal,2\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, CSV, data)
	})
}

// FuzzSupplierCSV decodes CSV as a supplier writes it: title lines above
// the header, Windows-1252, US dates, decimal commas, thousands points, a
// constant vendor, notes and totals skipped.
func FuzzSupplierCSV(f *testing.F) {
	for _, s := range []string{
		"Report\nMay\ninvoice_number;invoice_date;description;quantity;unit_price\nA;11/28/2026;Jalape\xf1o;1.000,5;$3,00\n;;;;\nTOTAL;;;;4,00\nThanks\n",
		"\xff\xfei\x00n\x00v\x00",
		"\xef\xbb\xbfinvoice_number;invoice_date;description;quantity;unit_price;_run;_record;_line;_error\nA;1/2/2026;x;2,5;1;3;4;5;old\n",
		"x\ny\nz\nw\n",
	} {
		f.Add([]byte(s))
	}
	values, err := NewValueFormat("MM/DD/YYYY", ",", ".")
	if err != nil {
		f.Fatal(err)
	}
	opts := Options{Format: CSV, Account: "acct", Delimiter: ';', SkipLines: 2, SkipNonLines: true,
		Encoding: "windows-1252", Set: map[string]string{FieldVendor: "V"}, Values: values}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoderWith(t, opts, data)
	})
}

// FuzzRecords decodes nested JSON documents with --records.
func FuzzRecords(f *testing.F) {
	for _, s := range []string{
		`{"vendor":"V","invoices":[{"invoiceNo":"A","date":"2026-01-02","lines":[{"description":"x","qty":1,"price":2},7]}]}`,
		`{"invoices":[{"lines":[{"a":"\ud800"}]},{"lines":{}}]}`,
		`{"invoices":[{"lines":[{`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	path, err := ParseRecordsPath("invoices[].lines[]")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoderWith(t, Options{Format: JSON, Account: "acct", Records: path}, data)
		// A bound this small cuts strings as they are read (stringCap).
		checkDecoderWith(t, Options{Format: JSON, Account: "acct", Records: path, MaxRecordBytes: 12}, data)
	})
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		"[" + obj("A") + "]",
		"\xef\xbb\xbf[\n  " + obj("A") + ",\n\n  {\"Invoice_Number\": \"B\", \"quantity\": 1e2, \"unit_price\": \"0.1\",\n \"x\": {\"y\": [1, 2]}},\n 42, \"s\", null, [], true\n]\n",
		"[\n" + obj("A", `"_line":3`, `"_error":"old"`, `"Vendor":"W"`) + ",\n{\"a\": \"\\u00e9\\ud800\\u0000\"}\n]",
		"[" + obj("A") + ",\n{\"invoice_number\": 1x}]",
		"[" + obj("A") + "] trailing",
		"[" + obj("A") + ",\n{\"invoice_number\":",
		"{\"a\":1}",
		"",
		"[]",
		gzipped("[\n" + obj("A") + "\n]"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, JSON, data)
	})
}

func FuzzNDJSON(f *testing.F) {
	for _, s := range []string{
		obj("A") + "\n" + obj("B") + "\n",
		"\n" + obj("A") + "\r\n\r\n  \n" + obj("B"),
		obj("A", `"_line":3`, `"_error":"old"`) + "\n{\"invoice_number\": \"B\",\n[1]\n\"s\"\n{} {}\n",
		"{\"Vendor\":\"V\",\"vendor\":\"W\",\"quantity\":true,\"x\":{\n",
		"{\"invoice_number\":\"A\",\"description\":\"caf\xe9\",\"quantity\":0.1,\"unit_price\":123456789012.3456}\n",
		"",
		gzipped(obj("A") + "\n"),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoder(t, NDJSON, data)
	})
}

func gzipped(s string) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return buf.String()
}

// checkDecoder decodes data to the end in format f and checks the
// invariants of every record.
func checkDecoder(t *testing.T, f Format, data []byte) {
	checkDecoderWith(t, Options{Format: f, Account: "acct"}, data)
}

// checkDecoderWith is checkDecoder with options: a rejects file is read
// back with the same options, as a profile would.
func checkDecoderWith(t *testing.T, opts Options, data []byte) {
	f := opts.Format
	d, err := NewDecoder(bytes.NewReader(data), opts)
	if err != nil {
		var fe *FatalError
		if errors.As(err, &fe) && fe.Msg != "" || isReadError(err) {
			return
		}
		t.Fatalf("NewDecoder: %v (%T), want a *FatalError", err, err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	enc := NewRejectEncoder(LayoutOf(d))
	var rejects bytes.Buffer // CSV: every record written as a reject
	var recs []*Record
	rejects.Write(enc.Header())
	prev := 0
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			if f == CSV {
				checkCSVRejects(t, opts, rejects.Bytes(), recs)
			}
			return
		}
		if err != nil {
			checkEndError(t, f, err, prev)
			return
		}
		if rec.Line < 1 || rec.Line < prev {
			t.Fatalf("line %d after line %d", rec.Line, prev)
		}
		prev = rec.Line
		if rec.Skipped {
			if rec.Err != nil || !opts.SkipNonLines {
				t.Fatalf("line %d: skipped with error %v, --skip-non-lines %v", rec.Line, rec.Err, opts.SkipNonLines)
			}
			continue // neither imported nor rejected
		}
		checkRecord(t, rec)
		if f == CSV {
			out := enc.Encode(rec, 0, errString(rec.Err))
			if len(out) == 0 || out[len(out)-1] != '\n' {
				t.Fatalf("CSV reject %q does not end a line", out)
			}
			rejects.Write(out)
			recs = append(recs, new(*rec)) // Next may reuse rec
			continue
		}
		checkJSONReject(t, enc, rec)
	}
}

// checkEndError checks an error that ends decoding: a *FatalError naming a
// line at or after the last record's, or, for gzip input, a read error.
// (csv.go's errors are checked less strictly: gocsv may wrap them.)
func checkEndError(t *testing.T, f Format, err error, prev int) {
	var fe *FatalError
	if !errors.As(err, &fe) {
		if f != CSV && !isReadError(err) {
			t.Fatalf("Next: %v (%T), want a *FatalError", err, err)
		}
		return
	}
	if fe.Msg == "" || (f == JSON && fe.Line < prev) || (f == JSON && fe.Line < 1) {
		t.Fatalf("fatal error %q at line %d, after a record at line %d", fe.Msg, fe.Line, prev)
	}
}

// isReadError reports errors that come from the reader rather than the
// decoder: a broken gzip stream.
func isReadError(err error) bool {
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || bytes.Contains([]byte(err.Error()), []byte("flate"))
}

// checkRecord checks that a record is either a valid line or rejected with
// a reason.
func checkRecord(t *testing.T, rec *Record) {
	if rec.Err != nil {
		var fe *FieldError
		var se *SyntaxError
		if rec.Err.Error() == "" || (!errors.As(rec.Err, &fe) && !errors.As(rec.Err, &se)) {
			t.Fatalf("line %d: error %q (%T), want a *FieldError or *SyntaxError with a message", rec.Line, rec.Err, rec.Err)
		}
		return
	}
	v := rec.Valid
	switch {
	case v.InvoiceNumber == "" || v.Vendor == "" || v.Description == "" || v.Account == "":
		t.Fatalf("line %d: valid record with an empty required field: %+v", rec.Line, v)
	case len(v.InvoiceDate) != len("2006-01-02"):
		t.Fatalf("line %d: valid record with date %q", rec.Line, v.InvoiceDate)
	case v.Quantity.IsZero() || v.UnitPrice.Sign() < 0:
		t.Fatalf("line %d: valid record with quantity %s, unit price %s", rec.Line, v.Quantity, v.UnitPrice)
	}
}

// checkJSONReject writes rec as a JSON reject, whether it was rejected or
// not, and reads it back as NDJSON: one valid JSON line with _line and
// _error once, that decodes to the same result as the original record.
func checkJSONReject(t *testing.T, enc *RejectEncoder, rec *Record) {
	reason := "accepted"
	if rec.Err != nil {
		reason = rec.Err.Error()
	}
	out := enc.Encode(rec, 0, reason)
	if !json.Valid(out) || bytes.IndexByte(out, '\n') != len(out)-1 {
		t.Fatalf("line %d: reject is not one line of JSON: %q", rec.Line, out)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(out, &fields); err != nil {
		t.Fatalf("line %d: reject %q: %v", rec.Line, out, err)
	}
	for _, key := range []string{ColumnLine, ColumnError} {
		if n := bytes.Count(out, []byte(`"`+key+`":`)); n != 1 {
			t.Fatalf("line %d: %s %d times in %q", rec.Line, key, n, out)
		}
	}
	back := decodeOne(t, out)
	if !json.Valid(rec.Raw.Object) || bytes.TrimLeft(rec.Raw.Object, jsonSpace)[0] != '{' {
		return // kept as "_raw"
	}
	if strings.Contains(reason, "more than --max-record-bytes") {
		return // read back without that bound
	}
	if got, want := errString(back.Err), errString(rec.Err); got != want {
		t.Fatalf("line %d: reject %q reads back with error %q, want %q", rec.Line, out, got, want)
	}
	if rec.Err == nil && !linesEqual(back.Valid, rec.Valid) {
		t.Fatalf("line %d: reject %q reads back as %+v, want %+v", rec.Line, out, back.Valid, rec.Valid)
	}
}

// checkCSVRejects reads a CSV rejects file back: it must hold the same
// records, and one rejected for a field must be rejected for that field
// again. (Values are not compared: encoding/csv reads a quoted CRLF as LF.)
func checkCSVRejects(t *testing.T, opts Options, rejects []byte, recs []*Record) {
	d, err := NewDecoder(bytes.NewReader(rejects), opts)
	if err != nil {
		t.Fatalf("rejects file %q: %v", rejects, err)
	}
	defer d.Close()
	for i := 0; ; i++ {
		back, err := d.Next()
		if errors.Is(err, io.EOF) {
			if i != len(recs) {
				t.Fatalf("rejects file %q has %d records, want %d", rejects, i, len(recs))
			}
			return
		}
		if err != nil {
			t.Fatalf("rejects file %q: %v", rejects, err)
		}
		if i >= len(recs) {
			t.Fatalf("rejects file %q has more than %d records", rejects, len(recs))
		}
		if back.Skipped {
			continue // a short row, padded in the rejects file, may read as a note
		}
		// _run and _record are the rejects file's own: written anew.
		var want, got *FieldError
		if errors.As(recs[i].Err, &want) && want.Field != FieldRun && want.Field != FieldRecord &&
			(!errors.As(back.Err, &got) || got.Field != want.Field) {
			t.Fatalf("record %d (line %d) %q: rejected for %v, read back from %q: %v", i, recs[i].Line, recs[i].Raw, want, rejects, back.Err)
		}
	}
}

// decodeOne decodes the single NDJSON record in line.
func decodeOne(t *testing.T, line []byte) *Record {
	d, err := NewDecoder(bytes.NewReader(line), Options{Format: NDJSON, Account: "acct"})
	if err != nil {
		t.Fatalf("reject %q: %v", line, err)
	}
	defer d.Close()
	rec, err := d.Next()
	if err != nil {
		t.Fatalf("reject %q: %v", line, err)
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("reject %q is more than one record", line)
	}
	return rec
}
