package invoice

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

const excelDigits = 15 // Excel keeps 15 significant digits; more are binary noise

// xlsxDecoder reads the rows of one sheet of a workbook as CSV records:
// Raw.Fields holds a row's cells as read, its rejects file is CSV, and a
// record's line is its row number.
type xlsxDecoder struct {
	opts     Options
	seen     *seen  // values validated (finish)
	dir      string // temporary: the input's copy and excelize's unpacked parts
	book     *excelize.File
	rows     *excelize.Rows
	date1904 bool   // the workbook counts days from 1904, as old Mac Excel did
	row      int    // number of the row last read
	sheet    string // the sheet read, for errors: its name, and whether it is hidden
	header   []string
	fields   []string // field of each column, "" when ignored
	// Of the row last read, when it is wider than the header: its last
	// column, and how many of its values are right of the header's.
	wideTo, wideValues int
}

var _ Decoder = (*xlsxDecoder)(nil)

func newXLSXDecoder(r io.Reader, opts Options) (_ *xlsxDecoder, err error) {
	d := &xlsxDecoder{opts: opts, seen: newSeen()}
	removeStaleTemp()
	if d.dir, err = os.MkdirTemp("", xlsxTempPrefix); err != nil {
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
	if err := d.openSheet(); err != nil {
		return nil, err
	}
	// The header is the first row whose cells give the fields, among the
	// first SkipLines+1 rows that are not empty, as for CSV.
	for tries := 0; ; tries++ {
		cells, bad, err := d.nextRow()
		switch {
		case err == io.EOF:
			return nil, &FatalError{Msg: fmt.Sprintf("%s has no header row among its %d rows that are not empty (--skip-lines %d)", d.sheet, tries, opts.SkipLines)}
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
			msg := d.sheet + ": header: " + bad.Error()
			if fe, ok := bad.(*FatalError); ok {
				msg = d.sheet + ": " + fe.Msg
			}
			if opts.SkipLines > 0 {
				msg += fmt.Sprintf(" (no row among the first %d is a header: --skip-lines %d)", opts.SkipLines+1, opts.SkipLines)
			}
			return nil, &FatalError{Line: d.row, Msg: msg}
		}
	}
}

// openSheet opens the sheet to read: Options.Sheet, matched ignoring case
// as Excel matches sheet names, or the first visible worksheet (not a
// chart sheet, whose part spool leaves out). It sets d.sheet to name it in
// errors.
func (d *xlsxDecoder) openSheet() error {
	names := d.book.GetSheetList() // reads the workbook, d.book.WorkBook
	var list []string              // the sheets, for errors
	for i, name := range names {
		state := d.book.WorkBook.Sheets.Sheet[i].State // hidden, veryHidden
		hidden := state != "" && state != "visible"
		label := fmt.Sprintf("%q", name)
		if hidden {
			label += " (hidden)"
		}
		if i < 20 {
			list = append(list, label)
		}
		if d.opts.Sheet == "" && hidden || d.opts.Sheet != "" && !strings.EqualFold(name, d.opts.Sheet) {
			continue
		}
		d.sheet = "sheet " + label
		rows, err := d.book.Rows(name)
		switch notSheet := errors.As(err, new(excelize.ErrSheetNotExist)); {
		case err == nil:
			d.rows = rows
			return nil
		case notSheet && d.opts.Sheet == "":
			continue
		case notSheet:
			return &FatalError{Msg: d.sheet + " is no worksheet (a chart sheet?): name the sheet to read with --sheet"}
		default:
			return &FatalError{Msg: fmt.Sprintf("%s: %v", d.sheet, err)}
		}
	}
	all := strings.Join(list, ", ")
	if len(names) > len(list) {
		all += fmt.Sprintf(" and %d more", len(names)-len(list))
	}
	switch {
	case len(names) == 0:
		return &FatalError{Msg: "the workbook has no sheet"}
	case d.opts.Sheet == "":
		return &FatalError{Msg: fmt.Sprintf("the workbook has no visible worksheet: its sheets are %s; name the one to read with --sheet", all)}
	}
	return &FatalError{Msg: fmt.Sprintf("no sheet named %q (--sheet); the workbook's sheets are %s", d.opts.Sheet, all)}
}

// nextRow reads the next row that is not empty, less its trailing empty
// cells. bad says they cannot all be read (a bad cell reference or shared
// string: the row is rejected); err is io.EOF or a *FatalError. Once the
// header is read, a row wider than it keeps only its first
// xlsxMaxBeyond values right of it, without the empty cells between (a
// row of one value in column XFD is 16,384 cells): d.wideTo and
// d.wideValues say what it had.
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
			return d.cut(cells), bad, nil
		}
	}
}

const xlsxMaxBeyond = 16

// cut copies a row's cells (excelize's slice may have room for 16,384),
// cutting it to the header's width and the values beyond.
func (d *xlsxDecoder) cut(cells []string) []string {
	width := len(d.header)
	d.wideTo, d.wideValues = 0, 0
	if d.header == nil || len(cells) <= width {
		return slices.Clone(cells)
	}
	out := slices.Clone(cells[:width])
	for _, c := range cells[width:] {
		if c != "" {
			if d.wideValues++; d.wideValues <= xlsxMaxBeyond {
				out = append(out, c)
			}
		}
	}
	d.wideTo = len(cells)
	return out
}

func (d *xlsxDecoder) Header() []string { return d.header }
func (d *xlsxDecoder) Format() Format   { return CSV } // as its rejects are written
func (d *xlsxDecoder) delimiter() rune  { return ',' }

func (d *xlsxDecoder) Next() (*Record, error) {
	cells, bad, err := d.nextRow()
	if err != nil {
		return nil, err
	}
	// Raw holds the cells as read, cut (the rejects file pads it to the
	// header's width): a date cell's day count as a date in the input's
	// format and a number cell's number in its decimal separator, so that
	// the rejects file reads back the same with the same settings.
	rec := &Record{Line: d.row, Raw: RawRecord{Fields: cells}}
	if bad != nil {
		rec.Err = &SyntaxError{Msg: fmt.Sprintf("row %d cannot be read: %v", d.row, bad), Rule: fmt.Sprintf("row cannot be read: %v", bad)}
		return rec, nil
	}
	var v Values
	for i, field := range d.fields {
		if field == "" || i >= len(cells) {
			continue
		}
		switch field {
		case FieldInvoiceDate:
			cells[i] = d.serialDate(cells[i])
		case FieldQuantity:
			cells[i] = d.number(cells[i], quantityScale)
		case FieldUnitPrice:
			cells[i] = d.number(cells[i], unitPriceScale)
		}
		*v.field(field) = cells[i]
	}
	if d.wideTo > 0 {
		last, _ := excelize.ColumnNumberToName(len(d.header))
		beyond, _ := excelize.ColumnNumberToName(d.wideTo) // excelize read it, so it is a column
		msg := fmt.Sprintf("row is wider than its header: it has a value in column %s, right of the header's last column %s", beyond, last)
		switch {
		case d.wideValues > xlsxMaxBeyond:
			msg += fmt.Sprintf(" (%d values there: the rejects file keeps the first %d, without the empty cells between them)", d.wideValues, xlsxMaxBeyond)
		case d.wideTo-len(d.header) > d.wideValues:
			msg += " (the rejects file keeps its values there without the empty cells between them)"
		}
		rec.Err = &SyntaxError{Msg: msg, Rule: "row is wider than its header"}
		if !d.opts.SkipNonLines || !d.opts.isNonLine(&v) {
			return rec, nil
		}
	}
	rec.finish(&v, &d.opts, d.seen)
	return rec, nil
}

// The invoice dates a number in the invoice_date column may be the day
// count of: others (a quantity, TRUE as 1) are text, and so no date.
var (
	serialFirst = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	serialLast  = time.Date(2100, 12, 31, 0, 0, 0, 0, time.UTC)
)

// serialDate reads an invoice date stored as a date cell's day count
// (46354 is 2026-11-28; a fraction is the time of day, which does not
// move the date) as a date in the input's format, validated as one typed
// as text. What the format reads (20261128 for YYYYMMDD) is text, and so
// is a number that is no day between serialFirst and serialLast.
func (d *xlsxDecoder) serialDate(s string) string {
	days, err := strconv.ParseFloat(s, 64)
	if _, ok := d.opts.Values.date(s); ok || err != nil || !isPlainDecimal(s) || days < 0 || days > 1e6 {
		return s
	}
	// Day 0 is 1899-12-30 (Excel counts a 1900-02-29 that was not, before
	// day 61, a date of no invoice) or 1904-01-01.
	t := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if d.date1904 {
		t = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	t = t.AddDate(0, 0, int(math.Floor(days)))
	if t.Before(serialFirst) || t.After(serialLast) {
		return s
	}
	return t.Format(cmp.Or(d.opts.Values.layout, time.DateOnly))
}

// number reads a quantity or unit price. A raw value that is a plain
// decimal (a number cell's is, with a point whatever the locale) means
// that number: rounded by exactNumber, and written in the input's decimal
// separator, which the validation reads back (1.234 as 1,234 with
// --decimal-separator , whatever the thousands separator). Other text is
// read in the input's format, as typed (1.234,5). A text cell holding a
// plain decimal cannot be told from a number cell: it means the same
// number (1.234, not 1234, with --thousands-separator .).
func (d *xlsxDecoder) number(s string, scale int32) string {
	if !isPlainDecimal(s) {
		return s
	}
	s = exactNumber(s, scale)
	if d.opts.Values.Decimal == ',' {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// exactNumber undoes binary floating point's noise in a number: Excel
// writes 2.45 as 2.4500000000000002, a formula's 2.2*1.1 as
// 2.4200000000000004. A number of more than 15 significant digits is read
// as the shortest decimal that gives the same float (2.45), and, when that
// still has more digits than Excel keeps, as Excel shows it (2.42); but
// only when that differs from it by less than half a unit of the last of
// the scale fractional digits the field allows, so that rounding never
// changes what is stored (9999999999999.999 stays itself, and is then
// accepted or rejected as typed). As a text cell cannot be told from a
// number cell, text of more than 15 significant digits is rounded too,
// when the rounding is beyond the scale: "1.0000000000000001" is a
// quantity of 1, not one rejected for its 16 fractional digits.
func exactNumber(s string, scale int32) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !isPlainDecimal(s) || significantDigits(s) <= excelDigits {
		return s
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if significantDigits(out) > excelDigits {
		out = decimal.RequireFromString(strconv.FormatFloat(f, 'e', excelDigits-1, 64)).String()
	}
	exact, err := decimal.NewFromString(s)
	if err != nil || exact.Sub(decimal.RequireFromString(out)).Abs().Cmp(decimal.New(5, -(scale+1))) >= 0 {
		return s
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
