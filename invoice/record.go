// Package invoice reads supplier invoice files: it decodes CSV, JSON and
// NDJSON (optionally gzip-compressed) record by record, remembers the physical
// line where each record starts, and validates each record's fields into an
// invoice Line with exact decimals.
package invoice

import (
	"fmt"

	"github.com/shopspring/decimal"
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
)

// Fields lists every field an input may have, in the order of the contract.
var Fields = []string{
	FieldInvoiceNumber, FieldInvoiceDate, FieldVendor, FieldVendorSKU,
	FieldDescription, FieldQuantity, FieldUnit, FieldUnitPrice, FieldAccount,
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
	// Valid is set when Err is nil.
	Valid Line
	// Err says why the record is rejected; a *FieldError or *SyntaxError.
	Err error
}

// RawRecord is the record as read. Exactly one of Fields and Object is set.
type RawRecord struct {
	Fields []string // CSV
	Object []byte   // JSON and NDJSON
}

// Line is a valid invoice line: every text field trimmed, decimals exact.
type Line struct {
	Account       string
	InvoiceNumber string
	InvoiceDate   string // YYYY-MM-DD, a real calendar date
	Vendor        string
	VendorSKU     string
	Description   string
	Quantity      decimal.Decimal
	Unit          string
	UnitPrice     decimal.Decimal
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
}

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
