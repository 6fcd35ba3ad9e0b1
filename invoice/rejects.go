package invoice

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Layout is what it takes to write records in the format of their input:
// the format, and for CSV the delimiter and the header as read.
type Layout struct {
	Format    Format
	Delimiter rune     // CSV
	Header    []string // CSV
	Encoding  string   // the input's, which was read into UTF-8; "" is UTF-8
}

// LayoutOf returns the layout of d's input.
func LayoutOf(d Decoder) Layout {
	l := Layout{Format: d.Format(), Delimiter: ',', Header: d.Header(), Encoding: UTF8}
	if dd, ok := d.(interface{ delimiter() rune }); ok {
		l.Delimiter = dd.delimiter()
	}
	if de, ok := d.(interface{ encoding() string }); ok {
		l.Encoding = de.encoding()
	}
	return l
}

// Raw returns a record as read, for storing: for CSV its fields as one CSV
// record (no line end) in the input's delimiter, for JSON the object.
func (l Layout) Raw(r RawRecord) []byte {
	if l.Format != CSV {
		return r.Object
	}
	return bytes.TrimSuffix(csvLine(r.FieldsOf(l.Delimiter), l.Delimiter), []byte("\n"))
}

// ParseRaw turns what Raw returned back into the record as read.
func (l Layout) ParseRaw(raw []byte) (RawRecord, error) {
	if l.Format != CSV {
		return RawRecord{Object: raw}, nil
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.Comma, r.FieldsPerRecord = l.Delimiter, -1
	fields, err := r.Read()
	if err != nil {
		return RawRecord{}, fmt.Errorf("stored record: %w", err)
	}
	return RawRecord{Fields: keepCRLF(fields, raw, l.Delimiter)}, nil
}

// EncodeHeader returns the CSV header as one CSV record, for storing; nil
// for JSON.
func (l Layout) EncodeHeader() []byte {
	if l.Format != CSV {
		return nil
	}
	return l.Raw(RawRecord{Fields: l.Header})
}

// ParseLayout rebuilds a stored layout.
func ParseLayout(format, delimiter string, header []byte, encoding string) (Layout, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return Layout{}, err
	}
	l := Layout{Format: f, Encoding: encoding}
	l.Delimiter, _ = utf8.DecodeRuneInString(delimiter)
	if f == CSV && len(header) > 0 { // runs from before layouts were stored have none
		h, err := l.ParseRaw(header)
		if err != nil {
			return Layout{}, err
		}
		l.Header = h.Fields
	}
	return l, nil
}

// RejectEncoder writes rejected records in the rejects-file format of their
// input: for CSV input, the input's columns plus _run, _record, _line and
// _error; for JSON input, NDJSON objects with those keys added. A rejects
// file read back as input yields the same records (_line and _error are
// ignored, _run and _record say where each came from), and rejecting them
// again replaces those columns instead of adding more.
type RejectEncoder struct {
	layout Layout
	keep   []int    // CSV: input columns to copy, all but old _line/_error
	header []string // CSV: header of the rejects file
}

// NewRejectEncoder returns the encoder for the rejects of an input.
func NewRejectEncoder(l Layout) *RejectEncoder {
	e := &RejectEncoder{layout: l}
	if l.Format != CSV {
		return e
	}
	for i, h := range l.Header {
		if isRejectColumn(h) {
			continue
		}
		e.keep = append(e.keep, i)
		e.header = append(e.header, h)
	}
	e.header = append(e.header, FieldRun, FieldRecord, ColumnLine, ColumnError)
	return e
}

// Header returns the bytes a new rejects file starts with: for CSV its
// header, after a UTF-8 byte order mark when the input was read from
// another encoding (so that the file read back with the same --encoding is
// read as the UTF-8 it is).
func (e *RejectEncoder) Header() []byte {
	var h []byte
	if transcoded(e.layout.Encoding) {
		h = []byte{0xef, 0xbb, 0xbf}
	}
	if e.layout.Format != CSV {
		return h
	}
	if d := e.layout.Delimiter; d != ',' && d != '\t' && d < utf8.RuneSelf {
		// Excel's line naming the delimiter: the file imports again with
		// the flags of its input, which may have said it the same way.
		h = append(h, "sep="+string(d)+"\n"...)
	}
	return append(h, csvLine(e.header, e.layout.Delimiter)...)
}

// Encode returns one rejected record of a run (0 for a dry run, which has
// none), with the reason it was rejected: _run and _record name it, so that
// imported again once fixed it comes home to its run's invoices, once.
func (e *RejectEncoder) Encode(rec *Record, run int64, reason string) []byte {
	if e.layout.Format != CSV {
		return jsonReject(rec, run, reason)
	}
	fields := rec.Raw.FieldsOf(e.layout.Delimiter)
	row := make([]string, 0, len(e.header)+len(fields))
	for _, i := range e.keep {
		if i < len(fields) {
			row = append(row, fields[i])
		} else {
			row = append(row, "")
		}
	}
	// Fields beyond the header's count are kept too, so nothing is lost.
	if width := len(e.layout.Header); len(fields) > width {
		row = append(row, fields[width:]...)
	}
	runID := ""
	if run > 0 {
		runID = strconv.FormatInt(run, 10)
	}
	row = append(row, runID, strconv.FormatInt(rec.Seq, 10), strconv.Itoa(rec.Line), reason)
	return csvLine(row, e.layout.Delimiter)
}

// csvLine is fields as one CSV line, its line end included.
func csvLine(fields []string, comma rune) []byte {
	lw := lineWriters.Get().(*lineWriter)
	defer lineWriters.Put(lw)
	lw.buf.Reset()
	lw.w.Comma = comma
	_ = lw.w.Write(fields) // writing to a bytes.Buffer cannot fail
	lw.w.Flush()
	return bytes.Clone(lw.buf.Bytes())
}

// lineWriter is a csv.Writer and what it writes to, kept for the next
// line: each csv.Writer has a 4 KiB buffer of its own, which a file of
// rejected lines made anew for every line (800 MB for 200,000 lines).
type lineWriter struct {
	buf bytes.Buffer
	w   *csv.Writer
}

var lineWriters = sync.Pool{New: func() any {
	lw := &lineWriter{}
	lw.w = csv.NewWriter(&lw.buf)
	return lw
}}
