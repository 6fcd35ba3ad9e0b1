package invoice

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// Bounds of an .xlsx input. excelize opens a workbook from a file or from
// memory (OpenReader reads it all into memory), so the input is copied to
// a temporary file. excelize unpacks every part into memory but worksheets
// over xlsxMaxPart, which it unpacks to temporary files, and its iterator
// reads a row at a time: memory does not grow with the rows. The sizes the
// zip declares are checked first (archive/zip fails a part that unpacks to
// more than it declares: a zip bomb is refused before it is unpacked).
const (
	xlsxMaxFile     = 256 << 20 // the .xlsx as delivered (on disk)
	xlsxMaxUnpacked = 1 << 30   // all its parts unpacked, mostly on disk
	xlsxMaxPart     = 16 << 20  // excelize's UnzipXMLSizeLimit
	// The parts unpacked into memory, together, counting the shared
	// strings, which excelize indexes in memory even when it unpacks them
	// to disk.
	xlsxMaxInMemory = 64 << 20
	excelDigits     = 15 // Excel keeps 15 significant digits; more are binary noise
)

// xlsxDecoder reads the rows of one sheet of a workbook as CSV records:
// Raw.Fields holds a row's cells as read, its rejects file is CSV, and a
// record's line is its row number.
type xlsxDecoder struct {
	opts     Options
	dir      string // temporary: the input's copy and excelize's unpacked parts
	book     *excelize.File
	rows     *excelize.Rows
	date1904 bool // the workbook counts days from 1904, as old Mac Excel did
	row      int  // number of the row last read
	header   []string
	fields   []string // field of each column, "" when ignored
}

var _ Decoder = (*xlsxDecoder)(nil)

func newXLSXDecoder(r io.Reader, opts Options) (_ *xlsxDecoder, err error) {
	d := &xlsxDecoder{opts: opts}
	if d.dir, err = os.MkdirTemp("", "batchimport-xlsx-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	path, err := d.spool(r)
	if err != nil {
		return nil, err
	}
	d.book, err = excelize.OpenFile(path, excelize.Options{
		UnzipSizeLimit: xlsxMaxUnpacked, UnzipXMLSizeLimit: xlsxMaxPart, TmpDir: d.dir})
	if err != nil {
		return nil, &FatalError{Msg: fmt.Sprintf("not a readable .xlsx workbook: %v", err)}
	}
	_ = os.Remove(path) // what excelize needs of it, it has unpacked
	props, _ := d.book.GetWorkbookProps()
	d.date1904 = props.Date1904 != nil && *props.Date1904
	sheet, err := d.sheet()
	if err != nil {
		return nil, err
	}
	if d.rows, err = d.book.Rows(sheet); err != nil {
		return nil, &FatalError{Msg: fmt.Sprintf("sheet %q: %v", sheet, err)}
	}
	// The header is the first row whose cells give the fields, among the
	// first SkipLines+1 rows that are not empty, as for CSV.
	for tries := 0; ; tries++ {
		cells, bad, err := d.nextRow()
		switch {
		case err == io.EOF:
			return nil, &FatalError{Msg: fmt.Sprintf("sheet %q has no header row among its %d rows that are not empty (--skip-lines %d)", sheet, tries, opts.SkipLines)}
		case err != nil:
			return nil, err
		}
		if bad == nil {
			if d.fields, bad = fieldNames(cells, opts.Columns, opts.Set); bad == nil {
				d.header = cells
				return d, nil
			}
		}
		if tries >= opts.SkipLines {
			msg := "header: " + bad.Error()
			if fe, ok := bad.(*FatalError); ok {
				msg = fe.Msg
			}
			if opts.SkipLines > 0 {
				msg += fmt.Sprintf(" (no row among the first %d is a header: --skip-lines %d)", opts.SkipLines+1, opts.SkipLines)
			}
			return nil, &FatalError{Line: d.row, Msg: msg}
		}
	}
}

// spool copies the input to a file, checking it is an intact zip in bounds.
func (d *xlsxDecoder) spool(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte("PK")) {
		return "", &FatalError{Msg: "not an .xlsx workbook (a zip archive): decompress a gzip-compressed one first; save a password-protected one or an .xls as .xlsx"}
	}
	f, err := os.CreateTemp(d.dir, "*.xlsx")
	if err != nil {
		return "", err
	}
	defer f.Close()
	n, err := io.Copy(f, io.LimitReader(br, xlsxMaxFile+1))
	if err != nil {
		return "", err
	}
	if n > xlsxMaxFile {
		return "", tooBig(fmt.Sprintf("the .xlsx is over %d MiB", xlsxMaxFile>>20))
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		return "", &FatalError{Msg: fmt.Sprintf("not a readable .xlsx workbook: %v", err)}
	}
	var total, inMemory uint64
	for _, p := range zr.File {
		name, size := strings.ToLower(strings.ReplaceAll(p.Name, `\`, "/")), p.UncompressedSize64
		total += min(size, xlsxMaxUnpacked+1)
		if !strings.HasPrefix(name, "xl/worksheets/sheet") || size <= xlsxMaxPart {
			inMemory += min(size, xlsxMaxUnpacked+1)
		}
		switch {
		case total > xlsxMaxUnpacked:
			return "", tooBig(fmt.Sprintf("the .xlsx unpacks to more than %d MiB", xlsxMaxUnpacked>>20))
		case inMemory > xlsxMaxInMemory:
			return "", tooBig(fmt.Sprintf("its parts other than large sheets unpack to more than %d MiB (at %s)", xlsxMaxInMemory>>20, p.Name))
		}
		// excelize ignores a part that fails to unpack, keeping what came
		// before the damage: a damaged sheet would lose rows without a word.
		rc, err := p.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc) // checks the part's checksum
			rc.Close()
		}
		if err != nil {
			return "", &FatalError{Msg: fmt.Sprintf("the .xlsx is damaged: %s: %v", p.Name, err)}
		}
	}
	return f.Name(), nil
}

func tooBig(what string) error { return &FatalError{Msg: what + ", the limit of an .xlsx input"} }

// sheet is the name of the sheet to read: Options.Sheet, matched ignoring
// case as Excel matches sheet names, or the first.
func (d *xlsxDecoder) sheet() (string, error) {
	sheets := d.book.GetSheetList()
	for _, s := range sheets {
		if d.opts.Sheet == "" || strings.EqualFold(s, d.opts.Sheet) {
			return s, nil
		}
	}
	if d.opts.Sheet == "" {
		return "", &FatalError{Msg: "the workbook has no sheet"}
	}
	return "", &FatalError{Msg: fmt.Sprintf("no sheet named %q (--sheet); the workbook's sheets are %q", d.opts.Sheet, sheets)}
}

// nextRow reads the next row that is not empty, less its trailing empty
// cells. bad says they cannot all be read (a bad cell reference or shared
// string: the row is rejected); err is io.EOF or a *FatalError.
func (d *xlsxDecoder) nextRow() (cells []string, bad, err error) {
	for {
		if d.rows == nil || !d.rows.Next() {
			if d.rows != nil && d.rows.Error() != nil {
				return nil, nil, &FatalError{Line: d.row + 1, Msg: fmt.Sprintf("xlsx: %v", d.rows.Error())}
			}
			return nil, nil, io.EOF
		}
		// Next steps through row numbers one by one, rows missing from the
		// sheet's XML included, so counting gives the row number.
		d.row++
		cells, bad = d.rows.Columns(excelize.Options{RawCellValue: true})
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) > 0 || bad != nil {
			return cells, bad, nil
		}
	}
}

func (d *xlsxDecoder) Header() []string { return d.header }
func (d *xlsxDecoder) Format() Format   { return CSV } // as its rejects are written
func (d *xlsxDecoder) delimiter() rune  { return ',' }

func (d *xlsxDecoder) Next() (*Record, error) {
	cells, bad, err := d.nextRow()
	if err != nil {
		return nil, err
	}
	if bad != nil {
		return &Record{Line: d.row, Raw: RawRecord{Fields: cells}, Err: &SyntaxError{Msg: fmt.Sprintf("row %d cannot be read: %v", d.row, bad)}}, nil
	}
	// Raw holds the cells as read: a date cell's day count as a date in
	// the input's format, so that the rejects file reads back the same.
	raw := make([]string, max(len(cells), len(d.header)))
	copy(raw, cells)
	rec := &Record{Line: d.row, Raw: RawRecord{Fields: raw}}
	var v Values
	for i, field := range d.fields {
		switch field {
		case "":
			continue
		case FieldInvoiceDate:
			raw[i] = d.serialDate(raw[i])
		case FieldQuantity, FieldUnitPrice:
			raw[i] = exactNumber(raw[i])
		}
		*v.field(field) = raw[i]
	}
	if len(cells) > len(d.header) {
		last, _ := excelize.ColumnNumberToName(len(d.header))
		beyond, _ := excelize.ColumnNumberToName(len(cells)) // excelize read it, so it is a column
		rec.Err = &SyntaxError{Msg: fmt.Sprintf("row has a value in column %s, right of the header's last column %s", beyond, last)}
		if !d.opts.SkipNonLines || !isNonLine(&v) {
			return rec, nil
		}
	}
	rec.finish(&v, &d.opts)
	return rec, nil
}

// serialDate reads an invoice date stored as a date cell's day count
// (46354 is 2026-11-28; a fraction is the time of day) as a date in the
// input's format, validated as one typed as text. What the format reads
// (20261128 for YYYYMMDD) is text.
func (d *xlsxDecoder) serialDate(s string) string {
	days, err := strconv.ParseFloat(s, 64)
	if _, ok := d.opts.Values.date(s); ok || err != nil || !isPlainDecimal(s) || days < 1 || days >= 2958466 { // 9999-12-31
		return s
	}
	t, err := excelize.ExcelDateToTime(days, d.date1904)
	if err != nil || t.Year() > 9999 {
		return s
	}
	return t.Format(cmp.Or(d.opts.Values.layout, time.DateOnly))
}

// exactNumber undoes binary floating point's noise in a number: Excel
// writes 2.45 as 2.4500000000000002, a formula's 2.2*1.1 as
// 2.4200000000000004. A number of more than 15 significant digits is read
// as the shortest decimal that gives the same float (2.45), and, when that
// still has more digits than Excel keeps, as Excel shows it (2.42).
func exactNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !isPlainDecimal(s) || significantDigits(s) <= excelDigits {
		return s
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if significantDigits(out) > excelDigits {
		out = decimal.RequireFromString(strconv.FormatFloat(f, 'e', excelDigits-1, 64)).String()
	}
	return out
}

// significantDigits counts the digits of a plain decimal from its first
// non-zero digit to its last.
func significantDigits(s string) int {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	return len(strings.Trim(strings.ReplaceAll(strings.TrimLeft(s, "+-"), ".", ""), "0"))
}

// Close removes the temporary files; it may be called more than once. The
// iterator's error was Next's; the workbook's files are in d.dir.
func (d *xlsxDecoder) Close() error {
	if d.rows != nil {
		_ = d.rows.Close()
	}
	if d.book != nil {
		_ = d.book.Close()
	}
	dir := d.dir
	d.rows, d.book, d.dir = nil, nil, ""
	return os.RemoveAll(dir) // "" is nothing to remove
}
