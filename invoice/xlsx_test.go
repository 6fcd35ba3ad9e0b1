package invoice

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
		"":        `line 1: sheet "Summary": required column`, // the first sheet, which has no header
		"Missing": `no sheet named "Missing" (--sheet); the workbook's sheets are "Summary", "Lines"`,
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
	var bomb, many bytes.Buffer // 9 MiB of a workbook, 5 parts of 7.5 MiB: a few KiB zipped
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("xl/workbook.xml")
	_, _ = w.Write(bytes.Repeat([]byte(" "), 9<<20))
	_ = zw.Close()
	zw = zip.NewWriter(&many)
	for i := range 5 {
		w, _ := zw.Create(fmt.Sprintf("xl/worksheets/part%d.xml", i))
		_, _ = w.Write(bytes.Repeat([]byte("<a/>"), 15<<17))
	}
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
		"bomb":    {bomb.Bytes(), "xl/workbook.xml unpacks to more than 8 MiB, the limit of an .xlsx input"},
		"many":    {many.Bytes(), "its parts other than large sheets unpack to more than 32 MiB (at xl/worksheets/part4.xml), the limit of an .xlsx input"},
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

// Number cells hold a number with a point whatever the locale: with
// --decimal-separator , it reaches validation as 1,234 (so that the
// rejects file reads back with the same settings), while text typed the
// user's way (1.234,5) is read with the separators.
func TestXLSXNumberSeparators(t *testing.T) {
	data := workbook(t, sheet{name: "S", rows: [][]any{
		xlsxHeader,
		{"A", "2026-11-28", "V", "Milk", number("1.234"), nil, number("1234.5")},
		{"B", "2026-11-28", "V", "Milk", "1.234,5", nil, "1.089,00"},
		{"C", "2026-11-28", "V", "Milk", number("2.4500000000000002"), nil, number("0.30000000000000004")},
		{"D", "2026-11-28", "V", "Milk", number("9999999999999.999"), nil, number("-0")},
		{"E", "2026-11-28", "V", "", number("1.5"), nil, number("1.2E+1")},
	}})
	for _, c := range []struct {
		thousands string
		want      []string // quantity/unit price, or the field rejected
	}{
		{".", []string{"1.234/1234.5", "1234.5/1089", "2.45/0.3", "9999999999999.999/0", FieldDescription}},
		{"", []string{"1.234/1234.5", FieldQuantity, "2.45/0.3", "9999999999999.999/0", FieldDescription}},
	} {
		vf, err := NewValueFormat("", ",", c.thousands)
		if err != nil {
			t.Fatal(err)
		}
		d, recs := decodeXLSX(t, data, Options{Values: vf})
		if len(recs) != len(c.want) {
			t.Fatalf("thousands %q: %d records", c.thousands, len(recs))
		}
		for i, r := range recs {
			got := r.Valid.Quantity.String() + "/" + r.Valid.UnitPrice.String()
			var fe *FieldError
			if errors.As(r.Err, &fe) {
				got = fe.Field
			} else if r.Err != nil {
				got = r.Err.Error()
			}
			if got != c.want[i] {
				t.Errorf("thousands %q, row %d: %s, want %s", c.thousands, r.Line, got, c.want[i])
			}
		}
		if got := strings.Join(recs[0].Raw.Fields, "|"); got != "A|2026-11-28|V|Milk|1,234||1234,5" {
			t.Errorf("thousands %q: raw %s", c.thousands, got)
		}
		// The rejects file, fixed, reads back with the same settings.
		enc := NewRejectEncoder(LayoutOf(d))
		rejects := string(enc.Header()) + string(enc.Encode(recs[4], 9, recs[4].Err.Error()))
		fixed := strings.Replace(rejects, "E,2026-11-28,V,,", "E,2026-11-28,V,Milk,", 1)
		back := decodeAll(t, fixed, Options{Account: "acct", Values: vf})
		if len(back) != 1 || back[0].Err != nil || back[0].Valid.Quantity.String() != "1.5" || back[0].Valid.UnitPrice.String() != "12" {
			t.Errorf("thousands %q: rejects\n%s\nread back as %+v", c.thousands, fixed, back)
		}
	}
}

func TestXLSXExactNumber(t *testing.T) {
	for _, c := range []struct {
		in    string
		scale int32
		want  string
	}{
		{"2.4500000000000002", 4, "2.45"},
		{"-2.4500000000000002", 4, "-2.45"},
		{"0.30000000000000004", 4, "0.3"},
		{"2.4200000000000004", 4, "2.42"}, // 2.2*1.1, as Excel shows it
		{"9999999999999.999", 3, "9999999999999.999"},
		{"123456789012.34567", 4, "123456789012.34567"}, // not 123456789012.346: rejected as typed
		{"99999999999.99999", 4, "100000000000"},        // 0.00001 off: invisible at the scale
		{"1.0000000000000001", 3, "1"},                  // the rounding is beyond the scale: invisible
		{"2.45", 4, "2.45"},
		{"1E+3", 3, "1E+3"},
		{"two", 3, "two"},
	} {
		if got := exactNumber(c.in, c.scale); got != c.want {
			t.Errorf("exactNumber(%s, %d) = %s, want %s", c.in, c.scale, got, c.want)
		}
	}
}

// An invoice date may be a day count between 1990 and 2100 only; its time
// of day does not move it.
func TestXLSXSerialDates(t *testing.T) {
	rows := [][]any{xlsxHeader}
	dates := []any{true, 1, number("32873"), number("32874"), number("73415"), number("73416"), number("46354.99999999"), number("46354.5"), number("-46354")}
	for i, day := range dates {
		rows = append(rows, []any{fmt.Sprint(i), day, "V", "Milk", 1, nil, 1})
	}
	data := workbook(t, sheet{name: "S", rows: rows})
	_, recs := decodeXLSX(t, data, Options{})
	want := []string{"", "", "", "1990-01-01", "2100-12-31", "", "2026-11-28", "2026-11-28", ""}
	for i, r := range recs {
		if r.Valid.InvoiceDate != want[i] {
			t.Errorf("day %v: %q (%v), want %q", dates[i], r.Valid.InvoiceDate, r.Err, want[i])
		}
		var fe *FieldError
		if want[i] == "" && (!errors.As(r.Err, &fe) || fe.Field != FieldInvoiceDate) {
			t.Errorf("day %v: %v, want it rejected for its date", dates[i], r.Err)
		}
	}
	// A workbook counting from 1904 has the same dates 1462 days earlier.
	f := excelize.NewFile()
	defer f.Close()
	yes := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
		t.Fatal(err)
	}
	_ = f.SetSheetRow("Sheet1", "A1", &xlsxHeader)
	_ = f.SetSheetRow("Sheet1", "A2", &[]any{"A", 44892, "V", "Milk", 1, nil, 1})
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if _, recs := decodeXLSX(t, buf.Bytes(), Options{}); len(recs) != 1 || recs[0].Valid.InvoiceDate != "2026-11-28" {
		t.Fatalf("1904 workbook: %+v", recs)
	}
}

// rawWorkbook zips a workbook's parts, name then content, as excelize
// would not write them: the package's and the workbook's relationships
// and a workbook of one sheet S come first unless given.
func rawWorkbook(t testing.TB, parts ...string) []byte {
	t.Helper()
	base := []string{
		"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
	}
	given := map[string]bool{}
	for i := 0; i < len(parts); i += 2 {
		given[parts[i]] = true
	}
	for i := 0; i < len(base); i += 2 {
		if !given[base[i]] {
			parts = append(parts, base[i], base[i+1])
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, parts[i+1])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetXML is a worksheet of rows: the header, then rows as XML.
func sheetXML(rows ...string) string {
	return `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1"><c t="inlineStr"><is><t>invoice_number</t></is></c><c t="inlineStr"><is><t>invoice_date</t></is></c><c t="inlineStr"><is><t>vendor</t></is></c>` +
		`<c t="inlineStr"><is><t>description</t></is></c><c t="inlineStr"><is><t>quantity</t></is></c><c t="inlineStr"><is><t>unit_price</t></is></c></row>` +
		strings.Join(rows, "") + `</sheetData></worksheet>`
}

// xlsxLine is a row of the header's six columns, and what follows them.
func xlsxLine(r int, more string) string {
	return fmt.Sprintf(`<row r="%d"><c t="inlineStr"><is><t>N%d</t></is></c><c t="inlineStr"><is><t>2026-11-28</t></is></c><c t="inlineStr"><is><t>V</t></is></c>`+
		`<c t="inlineStr"><is><t>Milk</t></is></c><c><v>1</v></c><c><v>2.5</v></c>%s</row>`, r, r, more)
}

// Workbooks built to exhaust memory are refused before excelize reads
// them (the binary's peak RSS on each stays under 200 MiB: see the
// limits in xlsx_limits.go).
func TestXLSXHostile(t *testing.T) {
	sst := func(body string) string {
		return `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + body + `</sst>`
	}
	shared := xlsxLine(2, strings.Repeat(`<c t="s"><v>0</v></c>`, 5))
	var parts bytes.Buffer
	zw := zip.NewWriter(&parts)
	for i := range xlsxMaxParts + 1 {
		_, _ = zw.Create(fmt.Sprint(i))
	}
	_ = zw.Close()
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"shared strings": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(), "xl/sharedStrings.xml", sst(strings.Repeat("<si/>", xlsxMaxStrings+1))),
			"the workbook has more than 1000000 shared strings (xl/sharedStrings.xml)"},
		"defined names": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(), "xl/workbook.xml", "<workbook>"+strings.Repeat("<definedName/>", xlsxMaxElements)+"</workbook>"),
			"xl/workbook.xml has more than 20000 XML elements"},
		"cell": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(`<row r="2"><c r="A2" t="inlineStr"><is><t>`+strings.Repeat("x", xlsxMaxCell)+`</t></is></c></row>`)),
			"xl/worksheets/sheet1.xml: cell A2 is over 1 MiB, the limit of an .xlsx input"},
		"rich text cell": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(`<row r="2"><c t="inlineStr"><is>`+strings.Repeat("<r><t>x</t></r>", xlsxMaxCell/14)+`</is></c></row>`)),
			"xl/worksheets/sheet1.xml: a cell is over 1 MiB"},
		"row": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(`<row r="2">`+strings.Repeat(`<c t="inlineStr"><is><t>`+strings.Repeat("x", 1<<20-64)+`</t></is></c>`, 5)+`</row>`)),
			"xl/worksheets/sheet1.xml: row 2 is over 4 MiB"},
		"shared string": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(), "xl/sharedStrings.xml", sst("<si/><si><t>"+strings.Repeat("x", xlsxMaxCell)+"</t></si>")),
			"xl/sharedStrings.xml: shared string 2 is over 1 MiB"},
		"shown often": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(shared), "xl/sharedStrings.xml", sst("<si><t>"+strings.Repeat("x", 1000000)+"</t></si>")),
			"xl/worksheets/sheet1.xml has a row of 5 shared-string cells and a shared string is 976 KiB: the row reads as more than 4 MiB"},
		"comment": {rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML()+"<!--"+strings.Repeat("<c>", xlsxMaxCell/3)+"-->"),
			"xl/worksheets/sheet1.xml: an XML token at byte"},
		"nested": {rawWorkbook(t, "xl/worksheets/sheet1.xml", strings.Repeat("<a>", xlsxMaxDepth+1)),
			"xl/worksheets/sheet1.xml: XML elements nest more than 100 deep"},
		"doctype": {rawWorkbook(t, "xl/workbook.xml", `<!DOCTYPE workbook [<!ENTITY a "b">]><workbook/>`),
			"xl/workbook.xml: a DOCTYPE or other XML declaration"},
		"parts": {parts.Bytes(), "the .xlsx has more than 10000 parts"},
	} {
		_, err := NewDecoder(bytes.NewReader(c.data), Options{Format: XLSX})
		var fe *FatalError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a *FatalError saying %q", name, err, c.want)
		}
	}

	// What it takes for a token is no less than Go's decoder: quotes,
	// comments, CDATA and namespace prefixes are read as such.
	data := rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(
		`<!-- a <row> in a comment -->`,
		`<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="2" note="a > b"><x:c t="inlineStr"><x:is><x:t>N2</x:t></x:is></x:c>`+
			`<c t="inlineStr"><is><t>2026-11-28</t></is></c><c t="inlineStr"><is><t><![CDATA[V <&> </c>]]></t></is></c>`+
			`<c t="inlineStr"><is><t>Milk</t></is></c><c><v>1</v></c><c t='s'><v>0</v></c></x:row>`,
		xlsxLine(3, ""),
	), "xl/sharedStrings.xml", sst(`<si><t>2.5</t></si>`))
	_, recs := decodeXLSX(t, data, Options{})
	if len(recs) != 2 || recs[0].Err != nil || recs[0].Valid.Vendor != "V <&> </c>" || recs[0].Valid.UnitPrice.String() != "2.5" || recs[1].Err != nil {
		t.Fatalf("records: %+v", recs)
	}
}

// A row with values far right of the header keeps few of them: a value in
// column XFD does not make a record of 16,384 fields.
func TestXLSXWideRows(t *testing.T) {
	var rows []string
	for r := 2; r < 202; r++ {
		rows = append(rows, xlsxLine(r, fmt.Sprintf(`<c r="XFD%d"><v>1</v></c>`, r)))
	}
	var many strings.Builder
	for c := 100; c < 120; c++ {
		col, _ := excelize.ColumnNumberToName(c)
		fmt.Fprintf(&many, `<c r="%s202"><v>%d</v></c>`, col, c)
	}
	rows = append(rows, xlsxLine(202, many.String()))
	_, recs := decodeXLSX(t, rawWorkbook(t, "xl/worksheets/sheet1.xml", sheetXML(rows...)), Options{})
	if len(recs) != 201 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs[:200] {
		var se *SyntaxError
		if !errors.As(r.Err, &se) || se.Msg != "row is wider than its header: it has a value in column XFD, right of the header's last column F (the rejects file keeps its values there without the empty cells between them)" {
			t.Fatalf("row %d: %v", r.Line, r.Err)
		}
		if len(r.Raw.Fields) != 7 || cap(r.Raw.Fields) > 16 || r.Raw.Fields[6] != "1" {
			t.Fatalf("row %d: %d fields (room for %d)", r.Line, len(r.Raw.Fields), cap(r.Raw.Fields))
		}
	}
	last := recs[200]
	if len(last.Raw.Fields) != 6+xlsxMaxBeyond || last.Raw.Fields[6] != "100" || !strings.Contains(last.Err.Error(), "column DO, right of the header's last column F (20 values there: the rejects file keeps the first 16, without the empty cells between them)") {
		t.Fatalf("row 202: %q: %v", last.Raw.Fields, last.Err)
	}
}

// The first sheet is the first visible one; errors name the sheet read,
// and say when it is hidden.
func TestXLSXHiddenSheets(t *testing.T) {
	book := func(states ...string) []byte {
		return rawWorkbook(t,
			"xl/workbook.xml", fmt.Sprintf(`<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`+
				`<sheet name="Notes" sheetId="1" state="%s" r:id="rId1"/><sheet name="Lines" sheetId="2" state="%s" r:id="rId2"/></sheets></workbook>`, states[0], states[1]),
			"xl/worksheets/sheet1.xml", `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>note</t></is></c></row></sheetData></worksheet>`,
			"xl/worksheets/sheet2.xml", sheetXML(xlsxLine(2, "")))
	}
	if _, recs := decodeXLSX(t, book("hidden", "visible"), Options{}); len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.InvoiceNumber != "N2" {
		t.Fatalf("records: %+v", recs)
	}
	// A chart sheet first is no worksheet to read.
	charts := rawWorkbook(t, "xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`+
		`<sheet name="Chart" sheetId="1" r:id="rId3"/><sheet name="Lines" sheetId="2" r:id="rId2"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>`+
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet" Target="chartsheets/sheet1.xml"/></Relationships>`,
		"xl/chartsheets/sheet1.xml", `<chartsheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`,
		"xl/worksheets/sheet2.xml", sheetXML(xlsxLine(2, "")))
	if _, recs := decodeXLSX(t, charts, Options{}); len(recs) != 1 || recs[0].Err != nil || recs[0].Valid.InvoiceNumber != "N2" {
		t.Fatalf("after a chart sheet: records %+v", recs)
	}
	if _, err := NewDecoder(bytes.NewReader(charts), Options{Format: XLSX, Sheet: "chart"}); err == nil || err.Error() != `sheet "Chart" is no worksheet (a chart sheet?): name the sheet to read with --sheet` {
		t.Errorf("--sheet chart: %v", err)
	}
	for _, c := range []struct {
		states []string
		sheet  string
		want   string
	}{
		{[]string{"veryHidden", ""}, "notes", `line 1: sheet "Notes" (hidden): required column`},
		{[]string{"", "hidden"}, "", `line 1: sheet "Notes": required column`},
		{[]string{"hidden", "veryHidden"}, "", `the workbook has no visible worksheet: its sheets are "Notes" (hidden), "Lines" (hidden); name the one to read with --sheet`},
		{[]string{"hidden", "visible"}, "nope", `no sheet named "nope" (--sheet); the workbook's sheets are "Notes" (hidden), "Lines"`},
	} {
		_, err := NewDecoder(bytes.NewReader(book(c.states...)), Options{Format: XLSX, Sheet: c.sheet})
		var fe *FatalError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q, --sheet %q: %v, want a *FatalError saying %q", c.states, c.sheet, err, c.want)
		}
	}
}

// Opening a workbook removes the temporary directories of a day or more
// that killed processes left behind.
func TestXLSXStaleTemp(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := time.Now().Add(-25 * time.Hour)
	for _, dir := range []string{xlsxTempPrefix + "old", xlsxTempPrefix + "new", "other"} {
		if err := os.MkdirAll(filepath.Join(tmp, dir, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if dir != xlsxTempPrefix+"new" {
			_ = os.Chtimes(filepath.Join(tmp, dir), old, old)
		}
	}
	decodeXLSX(t, workbook(t, sheet{name: "S", rows: [][]any{xlsxHeader}}), Options{})
	var left []string
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if got := strings.Join(left, " "); !strings.Contains(got, xlsxTempPrefix+"new") || !strings.Contains(got, "other") || strings.Contains(got, xlsxTempPrefix+"old") {
		t.Errorf("left in TMPDIR: %s", got)
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
