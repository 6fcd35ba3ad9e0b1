package invoice

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const header = "invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price\n"

func decodeAll(t *testing.T, input string, opts Options) []*Record {
	t.Helper()
	return decodeFrom(t, strings.NewReader(input), opts)
}

func decodeFrom(t *testing.T, in io.Reader, opts Options) []*Record {
	t.Helper()
	if opts.Format == "" {
		opts.Format = CSV
	}
	d, err := NewDecoder(in, opts)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	defer d.Close()
	var out []*Record
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, new(*rec)) // Next may reuse rec
	}
}

func TestCSVLinesAndQuoting(t *testing.T) {
	in := "\xef\xbb\xbf" + strings.ReplaceAll(header, "\n", "\r\n") +
		"A,2026-01-02,V,S1,Milk,1,gal,2\r\n" +
		"\r\n" +
		"B,2026-01-02,V,S2,\"Cheese,\r\nshredded\",2,lb,3\r\n" +
		"C,2026-01-02,V,S3,\"Say \"\"cheese\"\"\",3,lb,4\r\n"
	recs := decodeAll(t, in, Options{})
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3", len(recs))
	}
	wantLines := []int{2, 4, 6}
	for i, r := range recs {
		if r.Err != nil && i != 1 {
			t.Fatalf("record %d: %v", i, r.Err)
		}
		if r.Line != wantLines[i] {
			t.Errorf("record %d line = %d, want %d", i, r.Line, wantLines[i])
		}
	}
	// RFC 4180 keeps a quoted field's CRLF (encoding/csv alone would make
	// it LF) in the record as read; a value may hold no line break, so the
	// record is rejected, and its rejects line is the record as it was.
	if err := recs[1].Err; err == nil || !strings.Contains(err.Error(), "description: must not contain control characters") ||
		recs[1].Raw.FieldsOf(',')[4] != "Cheese,\r\nshredded" {
		t.Errorf("multi-line description: %v, as read %q", err, recs[1].Raw.FieldsOf(',')[4])
	}
	// So is the record as stored for the rejects file, and read back.
	l := Layout{Format: CSV, Delimiter: ','}
	if back, err := l.ParseRaw(l.Raw(recs[1].Raw)); err != nil || !slices.Equal(back.Fields, recs[1].Raw.FieldsOf(',')) {
		t.Errorf("multi-line record stored and read back: %q (%v), want %q", back.Fields, err, recs[1].Raw.FieldsOf(','))
	}
	if got := recs[2].Valid.Description; got != `Say "cheese"` {
		t.Errorf("quoted description = %q", got)
	}
}

// Excel's "sep=;" first line names the delimiter; lines count from it.
func TestCSVExcelSepLine(t *testing.T) {
	semi := strings.ReplaceAll(header, ",", ";")
	for _, in := range []string{
		"\xef\xbb\xbfsep=;\r\n" + strings.ReplaceAll(semi, "\n", "\r\n") + "A;2026-01-02;V;S1;Milk, whole;1.5;gal;2\r\nB;2026-01-02;V;S2;Eggs;x;dz;3\r\n",
		"SEP=;\n" + semi + "A;2026-01-02;V;S1;Milk, whole;1.5;gal;2\nB;2026-01-02;V;S2;Eggs;x;dz;3\n",
	} {
		recs := decodeAll(t, in, Options{})
		if len(recs) != 2 || recs[0].Err != nil || recs[0].Valid.Description != "Milk, whole" || recs[0].Line != 3 {
			t.Fatalf("%q: %+v", in, recs)
		}
		if recs[1].Line != 4 || recs[1].Err == nil || !strings.Contains(recs[1].Err.Error(), "quantity") {
			t.Errorf("%q: second record line %d, %v; want line 4 rejected for its quantity", in, recs[1].Line, recs[1].Err)
		}
	}
	// A --delimiter wins; the line is still no header.
	recs := decodeAll(t, "sep=,\n"+semi+"A;2026-01-02;V;S1;Milk;1;gal;2\n", Options{Delimiter: ';'})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Line != 3 {
		t.Errorf("sep=, with --delimiter ';': %+v", recs)
	}
}

func TestCSVHeaderMatching(t *testing.T) {
	in := " Invoice_Number ,INVOICE_DATE,Vendor,Item Name,quantity,unit_price,extra\n" +
		"A,2026-01-02,V,Milk,1,2,x\n"
	recs := decodeAll(t, in, Options{Columns: ColumnMap{"item name": FieldDescription}})
	if len(recs) != 1 || recs[0].Err != nil {
		t.Fatalf("got %+v", recs)
	}
	if recs[0].Valid.Description != "Milk" {
		t.Errorf("description = %q", recs[0].Valid.Description)
	}
	if got := recs[0].Raw.FieldsOf(','); len(got) != 7 || got[6] != "x" {
		t.Errorf("raw fields %q: unknown columns must be kept", got)
	}
}

// Stock counts what came: the quantity delivered, never the quantity
// ordered beside it.
func TestCSVQuantityDeliveredNotOrdered(t *testing.T) {
	in := "Invoice #,Date,Supplier,Item Description,Qty Ordered,Qty Delivered,UOM,Price,Ext Price\n" +
		"H1,2026-11-28,Sysco,Romaine hearts,10,8,CS,20.00,160.00\n"
	recs := decodeAll(t, in, Options{})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.Quantity.String() != "8" {
		t.Fatalf("got %+v, want quantity 8", recs)
	}
}

func TestCSVFatalHeaders(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"missing required", "invoice_number,invoice_date,vendor,quantity,unit_price\n", `"description" is missing`},
		{"ordered is no quantity", "invoice_number,invoice_date,vendor,description,qty ordered,unit_price\n", `"quantity" is missing`},
		{"duplicated", "invoice_number,invoice_date,vendor,description,quantity,unit_price,Vendor\n", `header "Vendor" is duplicated`},
		{"empty", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDecoder(strings.NewReader(tt.in), Options{Format: CSV})
			var fe *FatalError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a FatalError containing %q", err, tt.want)
			}
		})
	}
}

func TestCSVRecordErrorsKeepGoing(t *testing.T) {
	in := header +
		"A,2026-01-02,V,S1,Milk,1,gal\n" + // one field short
		"B,2026-01-02,V,S2,\"Milk\" 2% bad,1,gal,2\n" + // text after a quoted field
		"C,2026-01-02,V,S3,Milk,1,gal,2,extra\n" + // one field long
		"D,2026-01-02,V,S4,Milk,1,gal,2\n"
	recs := decodeAll(t, in, Options{})
	if len(recs) != 4 {
		t.Fatalf("got %d records, want 4", len(recs))
	}
	for i, want := range []string{"7 fields, the header has 8", "CSV syntax", "9 fields, the header has 8", ""} {
		r := recs[i]
		if r.Line != i+2 {
			t.Errorf("record %d: line %d, want %d", i, r.Line, i+2)
		}
		if want == "" {
			if r.Err != nil {
				t.Errorf("record %d: %v", i, r.Err)
			}
			continue
		}
		if r.Err == nil || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("record %d: err %v, want %q", i, r.Err, want)
		}
	}
	if got := recs[1].Raw.FieldsOf(','); len(got) != 1 || !strings.Contains(got[0], `"Milk" 2% bad`) {
		t.Errorf("bad-quote record raw = %q, want its text kept", got)
	}
}

// A quote inside a field that is not quoted is an inch mark, as supplier
// files write it; on a line that quotes a field too, it stays an error.
func TestCSVInchMarks(t *testing.T) {
	in := header +
		"A,2026-01-02,V,S1,Pan 9\" round,1,ea,2\n" +
		"B,2026-01-02,V,S2,Board 12\"x18\",1,ea,2\n" +
		"C,2026-01-02,V,S3,Pan 9\" round,1,ea,\"2\"\n" +
		"D,2026-01-02,V,S4,Tray 10\" \"deep\",1,ea,2\n" +
		"\r\n\n" + // blank lines before one
		"E,2026-01-02,V,S5,Pan 8\" square,1,ea,2\r\n"
	recs := decodeAll(t, in, Options{})
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	for i, want := range []string{`Pan 9" round`, `Board 12"x18"`, "", `Tray 10" "deep"`, `Pan 8" square`} {
		r := recs[i]
		if line := i + 2 + 2*(i/4); r.Line != line {
			t.Errorf("record %d: line %d, want %d", i, r.Line, line)
		}
		if want == "" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "CSV syntax") {
				t.Errorf("record %d: err %v, want a CSV syntax error", i, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Valid.Description != want {
			t.Errorf("record %d: description %q, err %v; want %q", i, r.Valid.Description, r.Err, want)
		}
	}
}

func TestCSVDelimiter(t *testing.T) {
	in := strings.ReplaceAll(header, ",", ";") + "A;2026-01-02;V;S1;Milk, whole;1;gal;2\n"
	recs := decodeAll(t, in, Options{Delimiter: ';'})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.Description != "Milk, whole" {
		t.Fatalf("got %+v", recs[0])
	}
}

func TestRejectsPath(t *testing.T) {
	tests := []struct {
		in   string
		f    Format
		want string
	}{
		{"in/may.2026.csv.gz", CSV, "in/may.2026.rejects.csv"},
		{"in/may.csv", CSV, "in/may.rejects.csv"},
		{"x.ndjson", NDJSON, "x.rejects.ndjson"},
		{"x.json.gz", JSON, "x.rejects.ndjson"},
		{"-", CSV, "stdin.rejects.csv"},
		{"data", CSV, "data.rejects.csv"},
	}
	for _, tt := range tests {
		if got := RejectsPath(tt.in, tt.f); got != tt.want {
			t.Errorf("RejectsPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Closing a decoder part way through a long file returns promptly.
func TestCSVCloseEarly(t *testing.T) {
	var b strings.Builder
	b.WriteString(header)
	for i := range 5000 {
		b.WriteString("A" + strings.Repeat("x", i%5) + ",2026-01-02,V,S1,Milk,1,gal,2\n")
	}
	d, err := NewDecoder(strings.NewReader(b.String()), Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := d.Next(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { d.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
}

// On a stream that pauses, each record is returned once its line has
// come: reading ahead does not keep it waiting for the lines after it.
func TestCSVSlowStreamRecordsDoNotWait(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	go func() { _, _ = io.WriteString(w, header) }()
	d, err := NewDecoder(r, Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lines := []string{"A,2026-01-02,V,S1,Milk,1,gal,2\nB,2026-01-02,V,S2,Eggs,2,dz,3\n", "C,2026-01-02,V,S3,Flour,3,lb,1\n"}
	want := 0
	for _, l := range lines {
		go func() { _, _ = io.WriteString(w, l) }()
		for range strings.Count(l, "\n") {
			want++
			got := make(chan *Record, 1)
			go func() {
				rec, err := d.Next()
				if err != nil {
					t.Error(err)
				}
				got <- rec
			}()
			select {
			case rec := <-got:
				if rec == nil || rec.Line != want+1 || rec.Err != nil {
					t.Fatalf("record %d: got %+v, want line %d, valid", want, rec, want+1)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("record %d, whose line has come, waits for the lines after it", want)
			}
		}
	}
}

// A record longer than MaxRecordBytes (an unterminated quote makes the
// rest of the file one) rejects its first line only: the lines after it
// are read as records again, with their own line numbers, whether the bound
// is passed within that first line or past it.
func TestCSVLongRecordRejectsItsLineAndReadsOn(t *testing.T) {
	good := func(i int) string { return fmt.Sprintf("G%d,2026-01-02,V,S1,Milk,1,gal,2\n", i) }
	var b strings.Builder
	b.WriteString(header + good(2) + "\n") // a blank line 3
	b.WriteString(`Q,2026-01-02,V,S2,"Milk,1,gal,2` + "\r\n")
	for i := 5; i < 3000; i++ { // far past the bound: 64 KiB read ahead
		b.WriteString(good(i))
	}
	b.WriteString("L,2026-01-02,V,S3,\"" + strings.Repeat("x", 200<<10) + "\n") // one line past the bound
	b.WriteString(good(3001))
	b.WriteString("E,2026-01-02,V,S4,\"" + strings.Repeat("y", 100<<10)) // the last, without end
	recs := decodeAll(t, b.String(), Options{MaxRecordBytes: 1024})
	if len(recs) != 3000 {
		t.Fatalf("got %d records, want 3000", len(recs))
	}
	for _, r := range recs {
		switch r.Line {
		case 4, 3000, 3002:
			if r.Err == nil || !strings.Contains(r.Err.Error(), "longer than --max-record-bytes 1024") {
				t.Errorf("line %d: %v; want rejected, naming --max-record-bytes", r.Line, r.Err)
			}
		default:
			if want := fmt.Sprintf("G%d", r.Line); r.Err != nil || r.Valid.InvoiceNumber != want {
				t.Errorf("line %d: %q, %v; want %s, valid", r.Line, r.Valid.InvoiceNumber, r.Err, want)
			}
		}
	}
	if raw := recs[1].Raw.FieldsOf(','); len(raw) != 1 || raw[0] != `Q,2026-01-02,V,S2,"Milk,1,gal,2` {
		t.Errorf("line 4 kept as %q, want its text whole, less the CR", raw)
	}
	long := recs[2997]
	if raw := long.Raw.FieldsOf(','); long.Line != 3000 || len(raw) != 1 || len(raw[0]) != keptOfLongRecord || !strings.HasPrefix(raw[0], `L,2026-01-02,V,S3,"xxx`) ||
		!strings.Contains(long.Err.Error(), fmt.Sprintf("the line is %d bytes", 19+200<<10)) {
		t.Errorf("line %d kept as %d bytes (%v); want line 3000 cut to %d, its size named", long.Line, len(raw[0]), long.Err, keptOfLongRecord)
	}
}

// A file whose lines end in a CR alone (old Mac software) reads as one
// with LF line ends: the same records on the same lines, read whole or a
// byte at a time. In a file whose lines end in LF, a CR stays a CR.
func TestCSVLinesEndingInCR(t *testing.T) {
	lines := []string{
		"invoice_number,invoice_date,vendor,vendor_sku,description,quantity,unit,unit_price",
		"G2,2026-01-02,V,S1,Milk,1,gal,2",
		"B3,2026-13-01,V,S1,Milk,1,gal,2",
		`G4,2026-01-02,V,S1,"Milk, whole",1,gal,2`,
	}
	want := decodeAll(t, strings.Join(lines, "\n")+"\n", Options{})
	in := strings.Join(lines, "\r")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, in)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]io.Reader{"whole": strings.NewReader(in), "a byte at a time": iotest.OneByteReader(strings.NewReader(in)),
		"gzipped": &gz} {
		got := decodeFrom(t, r, Options{})
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Line != w.Line || fmt.Sprint(g.Err) != fmt.Sprint(w.Err) || fmt.Sprint(g.Valid) != fmt.Sprint(w.Valid) || !slices.Equal(g.Raw.FieldsOf(','), w.Raw.FieldsOf(',')) {
				t.Errorf("%s: record %d: line %d, %v, %q; want line %d, %v, %q", name, i, g.Line, g.Err, g.Raw.FieldsOf(','), w.Line, w.Err, w.Raw.FieldsOf(','))
			}
		}
	}
	recs := decodeAll(t, lines[0]+"\n"+`C2,2026-01-02,V,S1,"Milk`+"\r"+`X",1,gal,2`+"\n", Options{})
	if len(recs) != 1 || recs[0].Err == nil || recs[0].Raw.FieldsOf(',')[4] != "Milk\rX" {
		t.Errorf("a CR in a field of an LF file: %v; want it kept, and rejected", recs)
	}
}

// The bound is exact: a record read whole, well within what the reader
// reads ahead, is rejected when it is one byte over MaxRecordBytes and
// read when it is at the bound, whether its line ends in LF or CRLF, or
// it spans lines in a quoted field.
func TestCSVRecordJustOverTheBound(t *testing.T) {
	const limit = 100
	good := func(i int) string { return fmt.Sprintf("G%d,2026-01-02,V,S1,Milk,1,gal,2\n", i) }
	sized := func(line, size int) string { // a record of size bytes, less its line end
		head := fmt.Sprintf("R%d,2026-01-02,V,S1,\"", line)
		tail := "\",1,gal,2"
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	want := map[int]string{} // line: "bound" (rejected by it), "rejected", or "read"
	var b strings.Builder
	b.WriteString(header)
	line := 2
	for i, size := range []int{limit - 1, limit, limit + 1, limit + 40, limit, limit + 1, limit + 1} {
		for range 50 {
			b.WriteString(good(line))
			line++
		}
		r, end := sized(line, size), "\n"
		if i == 4 || i == 5 {
			end = "\r\n"
		}
		want[line] = "read"
		if size > limit {
			want[line] = "bound"
		}
		if i == 6 { // a quoted line end inside: the first line is rejected, and the second
			at := strings.Index(r, "xx")
			r = r[:at] + "\n" + r[at+1:]
			line++
			want[line] = "rejected"
		}
		b.WriteString(r + end)
		line++
	}
	b.WriteString(good(line))
	recs := decodeAll(t, b.String(), Options{MaxRecordBytes: limit})
	if len(recs) != line-1 {
		t.Fatalf("got %d records, want %d", len(recs), line-1)
	}
	for _, r := range recs {
		switch want[r.Line] {
		case "bound":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "longer than --max-record-bytes 100") {
				t.Errorf("line %d: %v; want rejected by the bound", r.Line, r.Err)
			}
		case "rejected":
			if r.Err == nil {
				t.Errorf("line %d, the rest of a quoted field: read as a record; want rejected", r.Line)
			}
		case "read":
			if r.Err != nil {
				t.Errorf("line %d, a record at the bound: %v; want read", r.Line, r.Err)
			}
		default:
			if r.Err != nil || r.Valid.InvoiceNumber != fmt.Sprintf("G%d", r.Line) {
				t.Errorf("line %d: %q, %v; want G%d, valid", r.Line, r.Valid.InvoiceNumber, r.Err, r.Line)
			}
		}
	}
}

// The lines of a record spanning several count before an over-long record,
// and blank lines past the bound reject nothing: every line keeps its
// number, and a record after many blank lines is read whole.
func TestCSVLongRecordLineNumbers(t *testing.T) {
	good := func(i int) string { return fmt.Sprintf("G%d,2026-01-02,V,S1,Milk,1,gal,2\n", i) }
	var b strings.Builder
	b.WriteString(header + "M,2026-01-02,V,S1,\"two\nlines\",1,gal,2\n") // lines 2-3
	b.WriteString(`Q,2026-01-02,V,S2,"Milk,1,gal,2` + "\n")              // line 4
	for i := 5; i < 3000; i++ {
		b.WriteString(good(i))
	}
	b.WriteString(strings.Repeat("\n", 200<<10)) // lines 3000 to 3000+200Ki-1
	b.WriteString(good(3000 + 200<<10))
	recs := decodeAll(t, b.String(), Options{MaxRecordBytes: 1024})
	if len(recs) != 2998 {
		t.Fatalf("got %d records, want 2998", len(recs))
	}
	// Line 2's description holds a line end, which the rules refuse: its
	// record is there for its lines.
	if recs[0].Line != 2 || recs[1].Line != 4 || recs[1].Err == nil || !strings.Contains(recs[1].Err.Error(), "--max-record-bytes") {
		t.Errorf("first records: line %d, line %d (%v); want 2, then 4 rejected as too long", recs[0].Line, recs[1].Line, recs[1].Err)
	}
	for _, r := range recs[2:] {
		if want := fmt.Sprintf("G%d", r.Line); r.Err != nil || r.Valid.InvoiceNumber != want {
			t.Errorf("line %d: %q, %v; want %s, valid", r.Line, r.Valid.InvoiceNumber, r.Err, want)
		}
	}
}

// A quote error in a line cut by the bound is the bound's: the line is
// rejected cut to its first bytes, and the next line keeps its number.
func TestCSVQuoteErrorInALongLine(t *testing.T) {
	in := header + `a"b` + strings.Repeat("x", 70000) + "\nG3,2026-01-02,V,S1,Milk,1,gal,2\n"
	recs := decodeAll(t, in, Options{MaxRecordBytes: 1024})
	if len(recs) != 2 || recs[0].Line != 2 || len(recs[0].Raw.FieldsOf(',')[0]) != keptOfLongRecord || recs[1].Line != 3 || recs[1].Err != nil {
		t.Fatalf("got %d records: %v", len(recs), recs)
	}
}

// The layout of a CSV input (its delimiter) can be read while the decoder
// replaces its reader past an over-long record: under -race, the two do not
// share the reader.
func TestCSVLayoutWhileResyncing(t *testing.T) {
	in := header + `Q,2026-01-02,V,S2,"` + strings.Repeat("x", 70000) + "\nG3,2026-01-02,V,S1,Milk,1,gal,2\n"
	d, err := NewDecoder(strings.NewReader(in), Options{Format: CSV, MaxRecordBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if l := LayoutOf(d); l.Delimiter != ',' {
		t.Errorf("delimiter %q, want ','", l.Delimiter)
	}
	var lines []int
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, rec.Line)
	}
	if fmt.Sprint(lines) != "[2 3]" {
		t.Errorf("records on lines %v, want [2 3]", lines)
	}
}

// A gzip stream is read member after member; zero bytes after the last
// end it, as gzip(1) reads them; anything else after it, or a member cut
// short, is the bytes' fault (a *FatalError), after the records before.
func TestGzipMembersAndWhatFollows(t *testing.T) {
	// Empty members one after another take no stack: 100,000 of them
	// would overflow 8 MiB if each took a call.
	defer debug.SetMaxStack(debug.SetMaxStack(8 << 20))
	member := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = io.WriteString(zw, s)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	first, second := header+"A,2026-01-02,V,S1,Milk,1,gal,2\n", "B,2026-01-02,V,S2,Milk,1,gal,2\n"
	two := append(member(first), member(second)...)
	for _, c := range []struct {
		name    string
		in      []byte
		records int
		fatal   string
	}{
		{"two members", two, 2, ""},
		{"empty members between", append(append(member(first), bytes.Repeat(member(""), 100_000)...), member(second)...), 2, ""},
		{"zero padding", append(slices.Clone(two), make([]byte, 700)...), 2, ""},
		{"garbage after", append(slices.Clone(two), "\x00\x00junk"...), 2, "data after the end of the compressed stream"},
		{"cut short", two[:len(two)-5], 2, "cut short or damaged"}, // its trailer
	} {
		d, err := NewDecoder(bytes.NewReader(c.in), Options{Format: CSV})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := 0
		for {
			_, err = d.Next()
			if err != nil {
				break
			}
			n++
		}
		d.Close()
		var fe *FatalError
		switch {
		case n != c.records:
			t.Errorf("%s: %d records, want %d (%v)", c.name, n, c.records, err)
		case c.fatal == "" && !errors.Is(err, io.EOF):
			t.Errorf("%s: %v, want the end", c.name, err)
		case c.fatal != "" && (!errors.As(err, &fe) || !strings.Contains(err.Error(), c.fatal)):
			t.Errorf("%s: %v, want a FatalError saying %q", c.name, err, c.fatal)
		}
	}
}

// BenchmarkDecodeCSV reads 10,000 lines as a supplier's invoice has them:
// a description in twelve is quoted, for its comma, as in make bench.
func BenchmarkDecodeCSV(b *testing.B) {
	var in strings.Builder
	in.WriteString(header)
	for i := range 10000 {
		description := "Stone Mill Green Potatoes 6/#10"
		if i%12 == 0 {
			description = `"Cheese, shredded 4/5 LB"`
		}
		fmt.Fprintf(&in, "RF06-%07d,2025-01-01,Reinhart Foodservice,GA%04d-4,%s,%d.16,cs,29.4626\n", i/20, i%9999, description, i%40+1)
	}
	benchmarkDecodeOf(b, CSV, in.String())
}
