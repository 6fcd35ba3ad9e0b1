// Package invoice reads supplier invoice files: it decodes CSV, JSON and
// NDJSON (optionally gzip-compressed) record by record, remembers the physical
// line where each record starts, and validates each record's fields into an
// invoice Line with exact decimals.
package invoice

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/batchimport/batchimport/internal/fixed"
)

// Field names, as they appear in headers (CSV) and keys (JSON).
const (
	FieldInvoiceNumber = "invoice_number"
	FieldInvoiceDate   = "invoice_date"
	FieldVendor        = "vendor"
	FieldVendorSKU     = "vendor_sku"
	FieldDescription   = "description"
	FieldQuantity      = "quantity"
	FieldUnit          = "unit"
	FieldUnitPrice     = "unit_price"
	FieldAccount       = "account"
	FieldPack          = "pack" // pack size, e.g. 4/1GAL: optional
	// FieldRun and FieldRecord say where a record of a rejects file came
	// from: the run that rejected it, and its position in that run's input.
	FieldRun    = "_run"
	FieldRecord = "_record"
)

// Fields lists every field an input may have, in the order of the contract.
var Fields = []string{
	FieldInvoiceNumber, FieldInvoiceDate, FieldVendor, FieldVendorSKU,
	FieldDescription, FieldQuantity, FieldUnit, FieldUnitPrice, FieldAccount,
	FieldPack, FieldRun, FieldRecord,
}

// RequiredFields must be present as columns (CSV) and non-empty in a record.
var RequiredFields = []string{
	FieldInvoiceNumber, FieldInvoiceDate, FieldVendor, FieldDescription,
	FieldQuantity, FieldUnitPrice,
}

// Values holds a record's known fields as read, before validation. The csv
// tags are the canonical field names the CSV decoder hands to gocsv.
type Values struct {
	InvoiceNumber string `csv:"invoice_number"`
	InvoiceDate   string `csv:"invoice_date"`
	Vendor        string `csv:"vendor"`
	VendorSKU     string `csv:"vendor_sku"`
	Description   string `csv:"description"`
	Quantity      string `csv:"quantity"`
	Unit          string `csv:"unit"`
	UnitPrice     string `csv:"unit_price"`
	Account       string `csv:"account"`
	Pack          string `csv:"pack"`
	Run           string `csv:"_run"`
	Record        string `csv:"_record"`
}

// field returns the member of v that holds the named field, or nil.
func (v *Values) field(name string) *string {
	switch name {
	case FieldInvoiceNumber:
		return &v.InvoiceNumber
	case FieldInvoiceDate:
		return &v.InvoiceDate
	case FieldVendor:
		return &v.Vendor
	case FieldVendorSKU:
		return &v.VendorSKU
	case FieldDescription:
		return &v.Description
	case FieldQuantity:
		return &v.Quantity
	case FieldUnit:
		return &v.Unit
	case FieldUnitPrice:
		return &v.UnitPrice
	case FieldAccount:
		return &v.Account
	case FieldPack:
		return &v.Pack
	case FieldRun:
		return &v.Run
	case FieldRecord:
		return &v.Record
	}
	return nil
}

// UnmarshalCSVWithFields is how gocsv fills Values: by field name, which is
// far cheaper than its per-field reflection. Columns that are no field are
// ignored.
func (v *Values) UnmarshalCSVWithFields(key, value string) error {
	if p := v.field(key); p != nil {
		*p = value
	}
	return nil
}

// Record is one input record: where it starts, what it held, and either its
// validated Line or the reason it is rejected.
type Record struct {
	// Line is the 1-based physical line of the input where the record starts.
	Line int
	// Seq is the record's 1-based position among the input's records. It
	// identifies a record where Line cannot: several elements of a JSON
	// array may start on the same line.
	Seq int64
	// Raw is the record as read, kept whole for the rejects file: for CSV the
	// fields in input order, for JSON the object's bytes.
	Raw RawRecord
	// Origin is where a record of a rejects file came from, when it says.
	Origin Origin
	// Valid is set when Err is nil.
	Valid Line
	// Err says why the record is rejected; a *FieldError or *SyntaxError.
	Err error
	// Skipped says the record is no invoice line and is neither imported
	// nor rejected (Options.SkipNonLines).
	Skipped bool
}

// Origin names a rejected record: the run that rejected it and the record's
// position in that run's input. Zero for a record that is no reject.
type Origin struct {
	Run, Record int64
}

// finish sets what a record's values say: where it came from, and its
// valid line or why it is rejected, remembering in s (the decoder's).
func (rec *Record) finish(v *Values, opts *Options, s *seen) {
	opts.setConstants(v)
	if opts.SkipNonLines && opts.isNonLine(v) {
		rec.Skipped, rec.Err = true, nil
		return
	}
	o, err := parseOrigin(v.Run, v.Record)
	if err != nil {
		rec.Err = err
		return
	}
	rec.Origin = o
	rec.Valid, rec.Err = validate(v, Accounts{Default: opts.Account, Allowed: opts.AllowAccounts, Any: opts.AnyAccount}, opts.Values, s)
	if fe, ok := rec.Err.(*FieldError); ok && fe.Rule == ruleUTF8 && transcoded(opts.Encoding) {
		fe.Rule = unreadRule(opts.Encoding)
	}
}

// unreadRule is the rule a field breaks that holds what --encoding enc
// could not read (notUTF8), and what to try instead.
func unreadRule(enc string) string {
	switch enc {
	case "windows-1252":
		return "must be text: it holds a byte windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90 or 0x9D); is the file in another --encoding?"
	case "utf-16":
		return "must be text: it holds what UTF-16 cannot read (a lone surrogate, or an odd last byte)"
	}
	return "must be text: it holds a byte " + enc + " reads as a control character (0x80 to 0x9F), as Windows-1252 writes ’ “ ” – € there: try --encoding windows-1252"
}

// setConstants gives v the fields of --set.
func (opts *Options) setConstants(v *Values) {
	for field, value := range opts.Set {
		*v.field(field) = value
	}
}

// isNonLine says a record is no invoice line: it has no quantity, and no
// invoice number or no description (a total, a note, a blank row, an
// invoice's heading), and nothing only a line has: a SKU, a unit, a pack;
// or it is a total ("Invoice Total", with the lines' quantity) with no SKU.
// A line cut off after its description or its SKU is rejected. A field
// --set gives is not the record's own.
func (opts *Options) isNonLine(v *Values) bool {
	blank := func(field, s string) bool {
		_, set := opts.Set[field]
		return set || strings.TrimSpace(s) == ""
	}
	if isTotal(v.Description) && blank(FieldVendorSKU, v.VendorSKU) {
		return true // with a quantity, the sum of the lines'
	}
	return blank(FieldQuantity, v.Quantity) && (blank(FieldInvoiceNumber, v.InvoiceNumber) || blank(FieldDescription, v.Description)) &&
		blank(FieldVendorSKU, v.VendorSKU) && blank(FieldUnit, v.Unit) && blank(FieldPack, v.Pack)
}

// parseOrigin reads _run and _record. Both empty, or an empty _run (a dry
// run's rejects name no run), is no origin.
func parseOrigin(runText, recordText string) (Origin, error) {
	runText, recordText = strings.TrimSpace(runText), strings.TrimSpace(recordText)
	if runText == "" {
		return Origin{}, nil
	}
	run, err := strconv.ParseInt(runText, 10, 64)
	if err != nil || run <= 0 {
		return Origin{}, &FieldError{Field: FieldRun, Rule: "must be the id of the run that rejected the record", Value: shorten(runText)}
	}
	record, err := strconv.ParseInt(recordText, 10, 64)
	if err != nil || record <= 0 {
		return Origin{}, &FieldError{Field: FieldRecord, Rule: "must be the record's position in the run's input", Value: shorten(recordText)}
	}
	return Origin{Run: run, Record: record}, nil
}

// RawRecord is the record as read. Exactly one of Fields, Line and Object
// is set.
type RawRecord struct {
	Fields []string // CSV
	// Line is a CSV record read as one plain line (no quote, no line
	// end), kept whole instead of Fields: its fields are Line split at
	// the input's delimiter (FieldsOf). Most rows are never rejected, and
	// a slice of fields per line was a third of what an import allocated.
	Line   string
	Object []byte // JSON and NDJSON
}

// Size is about the bytes the record holds: its text.
func (r RawRecord) Size() int {
	n := len(r.Object) + len(r.Line)
	for _, f := range r.Fields {
		n += len(f)
	}
	return n
}

// FieldsOf is a CSV record's fields, in an input of that delimiter.
func (r RawRecord) FieldsOf(delimiter rune) []string {
	if r.Line == "" {
		return r.Fields
	}
	return strings.Split(r.Line, string(delimiter))
}

// Line is a valid invoice line: every text field trimmed, decimals exact.
type Line struct {
	Account       string
	InvoiceNumber string
	InvoiceDate   string // YYYY-MM-DD, a real calendar date
	Vendor        string
	VendorSKU     string
	Description   string
	Quantity      fixed.Decimal
	Unit          string
	UnitPrice     fixed.Decimal
	Pack          string // a pack size units.ParsePack reads, or ""
}

// FieldError names the field of a record that breaks a rule.
type FieldError struct {
	Field string
	Rule  string
	Value string // the offending value, shortened; empty when missing
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Rule)
	}
	return fmt.Sprintf("%s: %s (got %q)", e.Field, e.Rule, e.Value)
}

// SyntaxError is a record the decoder could not read as a record at all: bad
// CSV quoting, a field count that differs from the header's, a malformed
// NDJSON line.
type SyntaxError struct {
	Msg string
	// Rule is Msg less what differs from record to record (a line, a
	// column, a size), so that rejects for the same cause are counted
	// together; "" when Msg has nothing of the kind.
	Rule string
}

// RuleOf is the rule a syntax error breaks: Rule, else Msg.
func (e *SyntaxError) RuleOf() string { return cmp.Or(e.Rule, e.Msg) }

func (e *SyntaxError) Error() string { return e.Msg }

// FatalError stops a file before (or where) its records can be trusted: a
// missing required column, a duplicated header, a broken JSON array.
type FatalError struct {
	Line int // 0 when not tied to a line
	Msg  string
}

func (e *FatalError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}
