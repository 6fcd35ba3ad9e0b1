package invoice

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// sheet is one sheet of a workbook built for a test: rows of cells, each a
// string (a text cell), an int or float64 (a number), a time.Time (a date
// cell), a number (a number cell as written in the XML) or nil (no cell).
type sheet struct {
	name string
	rows [][]any
}

// number is a number cell's value as the XML has it. Excel writes 17
// significant digits: 2.45 as 2.4500000000000002.
type number string

// workbook builds an .xlsx with excelize.
func workbook(t testing.TB, sheets ...sheet) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range s.rows {
			for c, v := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				var err error
				switch v := v.(type) {
				case nil:
				case string:
					err = f.SetCellStr(s.name, cell, v)
				case number:
					err = f.SetCellDefault(s.name, cell, string(v))
				default:
					err = f.SetCellValue(s.name, cell, v)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var xlsxHeader = []any{"Invoice #", "Invoice Date", "Vendor", "Item Description", "Qty", "Unit", "Price"}

func decodeXLSX(t *testing.T, data []byte, opts Options) (Decoder, []*Record) {
	t.Helper()
	opts.Format, opts.Account = XLSX, "acct"
	d, err := NewDecoder(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	var recs []*Record
	for {
		rec, err := d.Next()
		if errors.Is(err, io.EOF) {
			return d, recs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

func TestXLSXRowsAndValues(t *testing.T) {
	data := workbook(t, sheet{name: "Invoices", rows: [][]any{
		{"Sysco invoice export, November"},
		nil,
		xlsxHeader,
		{"007", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), "Sysco", "Milk", 2, "gal", number("2.4500000000000002")},
		{"S-2", time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), "Sysco", "Cream", 1.5, nil, number("0.30000000000000004")},
		nil,
		{"S-3", "2026-11-27", "Sysco", "Butter", "two", "lb", 3},
		{"S-4", 46354, "Sysco", "Eggs", number("1.2E+1"), nil, 0.25},
	}})
	d, recs := decodeXLSX(t, data, Options{SkipLines: 1})
	if got := strings.Join(d.Header(), "|"); got != "Invoice #|Invoice Date|Vendor|Item Description|Qty|Unit|Price" {
		t.Errorf("header = %q", got)
	}
	if l := LayoutOf(d); l.Format != CSV || l.Delimiter != ',' {
		t.Errorf("layout = %+v, want CSV with commas", l)
	}
	want := []struct {
		line          int
		number, date  string
		qty, price    string
		field, rawDay string // rejected for field; the date as read
	}{
		{line: 4, number: "007", date: "2026-11-28", qty: "2", price: "2.45", rawDay: "2026-11-28"},
		{line: 5, number: "S-2", date: "2026-11-28", qty: "1.5", price: "0.3", rawDay: "2026-11-28"},
		{line: 7, field: FieldQuantity, rawDay: "2026-11-27"},
		{line: 8, number: "S-4", date: "2026-11-28", qty: "12", price: "0.25", rawDay: "2026-11-28"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Line != w.line || r.Seq != int64(i+1) {
			t.Errorf("record %d: line %d, seq %d; want line %d", i, r.Line, r.Seq, w.line)
		}
		if r.Raw.Fields[1] != w.rawDay {
			t.Errorf("line %d: date read as %q, want %q", r.Line, r.Raw.Fields[1], w.rawDay)
		}
		var fe *FieldError
		if w.field != "" {
			if !errors.As(r.Err, &fe) || fe.Field != w.field {
				t.Errorf("line %d: error %v, want one for %s", r.Line, r.Err, w.field)
			}
			continue
		}
		v := r.Valid
		if r.Err != nil || v.InvoiceNumber != w.number || v.InvoiceDate != w.date || v.Quantity.String() != w.qty || v.UnitPrice.String() != w.price {
			t.Errorf("line %d: %+v (%v), want %s %s %s %s", r.Line, v, r.Err, w.number, w.date, w.qty, w.price)
		}
	}

	// The rejects file is CSV with the row numbers; fixed, it reads back.
	enc := NewRejectEncoder(LayoutOf(d))
	rejects := string(enc.Header()) + string(enc.Encode(recs[2], 9, recs[2].Err.Error()))
	if !strings.HasPrefix(rejects, "Invoice #,Invoice Date,Vendor,Item Description,Qty,Unit,Price,_run,_record,_line,_error\n"+
		"S-3,2026-11-27,Sysco,Butter,two,lb,3,9,3,7,") {
		t.Fatalf("rejects file:\n%s", rejects)
	}
	fixed := decodeAll(t, strings.Replace(rejects, ",two,", ",2,", 1), Options{Account: "acct"})
	if len(fixed) != 1 || fixed[0].Err != nil || fixed[0].Origin != (Origin{Run: 9, Record: 3}) || fixed[0].Valid.Quantity.String() != "2" {
		t.Fatalf("fixed rejects read back as %+v", fixed[0])
	}
}

// A serial date is written in the input's date format, so that a rejects
// file reads back with the same --date-format; a text date is read in it.
func TestXLSXDateFormat(t *testing.T) {
	data := workbook(t, sheet{name: "S", rows: [][]any{
		xlsxHeader,
		{"A", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), "V", "Milk", 1, nil, 1},
		{"B", "11/28/2026", "V", "Milk", 1, nil, 1},
	}})
	vf, err := NewValueFormat("MM/DD/YYYY", ".", "")
	if err != nil {
		t.Fatal(err)
	}
	_, recs := decodeXLSX(t, data, Options{Values: vf})
	if len(recs) != 2 || recs[0].Raw.Fields[1] != "1/5/2026" || recs[0].Valid.InvoiceDate != "2026-01-05" || recs[1].Valid.InvoiceDate != "2026-11-28" {
		t.Fatalf("records %+v %+v", recs[0], recs[1])
	}
}

func TestXLSXSheetByName(t *testing.T) {
	data := workbook(t,
		sheet{name: "Summary", rows: [][]any{{"Total", 12}}},
		sheet{name: "Lines", rows: [][]any{xlsxHeader, {"L-1", "2026-11-28", "V", "Milk", 3, nil, 1}}},
	)
	_, recs := decodeXLSX(t, data, Options{Sheet: "LINES"})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.InvoiceNumber != "L-1" || recs[0].Line != 2 {
		t.Fatalf("records: %+v", recs)
	}
	for sheet, want := range map[string]string{
		"":        `line 1: required column`, // the first sheet, which has no header
		"Missing": `no sheet named "Missing" (--sheet); the workbook's sheets are ["Summary" "Lines"]`,
	} {
		_, err := NewDecoder(bytes.NewReader(data), Options{Format: XLSX, Sheet: sheet})
		var fe *FatalError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
			t.Errorf("sheet %q: %v, want a *FatalError saying %q", sheet, err, want)
		}
	}
}

// A workbook of the parts that name its sheets and nothing else (no
// styles, no theme), as other programs than Excel may write, reads too.
func TestXLSXMinimalWorkbook(t *testing.T) {
	data := stored(t, workbook(t, sheet{name: "S", rows: [][]any{xlsxHeader, {"A", 46354, "V", "Milk", 1, nil, number("2.4500000000000002")}}}))
	_, recs := decodeXLSX(t, data, Options{})
	if len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.InvoiceDate != "2026-11-28" || recs[0].Valid.UnitPrice.String() != "2.45" {
		t.Fatalf("records: %+v", recs)
	}
}

func TestXLSXRowWiderThanHeader(t *testing.T) {
	data := workbook(t, sheet{name: "S", rows: [][]any{
		xlsxHeader,
		{"A", "2026-11-28", "V", "Milk", 1, nil, 1, nil, "note"},
	}})
	_, recs := decodeXLSX(t, data, Options{})
	var se *SyntaxError
	if len(recs) != 1 || !errors.As(recs[0].Err, &se) || !strings.Contains(se.Msg, "column I, right of the header's last column G") {
		t.Fatalf("records: %+v", recs)
	}
}

func TestXLSXRefused(t *testing.T) {
	var bomb bytes.Buffer // 65 MiB of styles, a few KiB zipped
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("xl/styles.xml")
	_, _ = w.Write(bytes.Repeat([]byte(" "), 65<<20))
	_ = zw.Close()
	damaged := workbook(t, sheet{name: "S", rows: [][]any{xlsxHeader, {"A", "2026-11-28", "V", "Milk", 1, nil, 1}}})
	damaged[bytes.Index(damaged, []byte("xl/worksheets/sheet1.xml"))+len("xl/worksheets/sheet1.xml")+4] ^= 0xff
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"gzip":    {[]byte(gzipped(string(workbook(t, sheet{name: "S"})))), "decompress a gzip-compressed one first"},
		"csv":     {[]byte(header), "not an .xlsx workbook (a zip archive)"},
		"empty":   {nil, "not an .xlsx workbook"},
		"bomb":    {bomb.Bytes(), "its parts other than large sheets unpack to more than 64 MiB (at xl/styles.xml), the limit of an .xlsx input"},
		"damaged": {damaged, "the .xlsx is damaged: xl/worksheets/sheet1.xml: "},
		"blank":   {workbook(t, sheet{name: "S"}), `sheet "S" has no header row among its 0 rows`},
		"zip":     {[]byte("PK\x03\x04 truncated"), "not a readable .xlsx workbook"},
	} {
		_, err := NewDecoder(bytes.NewReader(c.data), Options{Format: XLSX})
		var fe *FatalError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a *FatalError saying %q", name, err, c.want)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestXLSXFormatOf(t *testing.T) {
	if f, ok := FormatOf("in/May.XLSX"); !ok || f != XLSX {
		t.Errorf("FormatOf = %q, %v", f, ok)
	}
	if got := RejectsPath("in/may.xlsx", XLSX); got != "in/may.rejects.csv" {
		t.Errorf("RejectsPath = %q", got)
	}
}

// FuzzXLSX feeds arbitrary bytes to the XLSX decoder: no panic, no hang,
// rows that never go back, every record valid or rejected with a reason,
// and rejects that are a CSV file holding the same records. Most seeds are
// re-zipped uncompressed, without checksums and with only the parts the
// decoder reads, so that the fuzzer's changes reach the XML instead of
// failing the zip's checks.
//
// Each input that finds new coverage is minimized first. Go's minimizer
// tries O(n²) cuts, and a zip cut anywhere is no zip, so a minimization
// takes all of -fuzzminimizetime (60s by default), during which nothing is
// fuzzed; and excelize's coverage varies from run to run (it stores parts
// in a sync.Map in map order), so such inputs come often. Bound it:
//
//	go test ./invoice -run '^$' -fuzz FuzzXLSX -fuzztime 60s -fuzzminimizetime 100x
func FuzzXLSX(f *testing.F) {
	for _, s := range [][]sheet{
		{{name: "S", rows: [][]any{xlsxHeader, {"A", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), "V", "Milk", 2, "gal", number("2.4500000000000002")}}}},
		{{name: "T", rows: [][]any{{"title"}, nil, xlsxHeader, {"B", "2026-11-28", "V", "x", "one", nil, -1}, {"C", 46354.5, "V", "y", 1e-3, nil, 0.1, "extra"}}}},
		{{name: "S", rows: [][]any{{"Total"}}}, {name: "Lines", rows: [][]any{xlsxHeader, {"L", 1, "V", "z", 1, nil, 1}}}},
	} {
		f.Add(stored(f, workbook(f, s...)))
	}
	f.Add(workbook(f, sheet{name: "S", rows: [][]any{xlsxHeader, {"A", 46354, "V", "Milk", 2, nil, 1}}}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(bytes.NewReader(data), Options{Format: XLSX, Account: "acct"})
		if err != nil {
			var fe *FatalError
			if !errors.As(err, &fe) || fe.Msg == "" {
				t.Fatalf("NewDecoder: %v (%T), want a *FatalError", err, err)
			}
			return
		}
		defer func() {
			if err := d.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}()
		enc := NewRejectEncoder(LayoutOf(d))
		rejects := bytes.NewBuffer(enc.Header())
		var recs []*Record
		for prev := 0; ; {
			rec, err := d.Next()
			if errors.Is(err, io.EOF) {
				readBack(t, rejects.Bytes(), recs)
				return
			}
			var fe *FatalError
			if err != nil {
				if !errors.As(err, &fe) || fe.Msg == "" {
					t.Fatalf("Next: %v (%T), want a *FatalError", err, err)
				}
				return
			}
			if rec.Line < 1 || rec.Line <= prev {
				t.Fatalf("row %d after row %d", rec.Line, prev)
			}
			prev = rec.Line
			checkRecord(t, rec)
			rejects.Write(enc.Encode(rec, 0, errString(rec.Err)))
			recs = append(recs, rec)
		}
	})
}

// readBack reads an XLSX input's rejects file as the CSV it is: it holds
// the same records, and one rejected for a field is rejected for it again.
func readBack(t *testing.T, rejects []byte, recs []*Record) {
	d, err := NewDecoder(bytes.NewReader(rejects), Options{Format: CSV, Account: "acct"})
	if err != nil {
		t.Fatalf("rejects file %q: %v", rejects, err)
	}
	defer d.Close()
	for i := 0; ; i++ {
		back, err := d.Next()
		switch {
		case errors.Is(err, io.EOF) && i == len(recs):
			return
		case err != nil || i == len(recs):
			t.Fatalf("rejects file %q: record %d of %d: %v", rejects, i+1, len(recs), err)
		}
		var want, got *FieldError
		if errors.As(recs[i].Err, &want) && (!errors.As(back.Err, &got) || got.Field != want.Field) {
			t.Fatalf("row %d %q: rejected for %v, read back from %q: %v", recs[i].Line, recs[i].Raw.Fields, want, rejects, back.Err)
		}
	}
}

// stored re-zips a workbook's sheets, shared strings and what names them,
// uncompressed and without checksums.
func stored(t testing.TB, data []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range zr.File {
		if !strings.HasPrefix(p.Name, "xl/worksheets/") && !slices.Contains([]string{"_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml"}, p.Name) {
			continue
		}
		rc, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.Name, Method: zip.Store,
			CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(body))})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
