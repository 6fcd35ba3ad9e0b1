package invoice

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
)

// RejectEncoder writes rejected records in the rejects-file format of their
// input: for CSV input, the input's columns plus _line and _error; for JSON
// input, NDJSON objects with _line and _error added. A rejects file read back
// as input yields the same records (its _line and _error are ignored), and
// rejecting them again replaces those two columns instead of adding more.
type RejectEncoder struct {
	format Format
	keep   []int    // CSV: input columns to copy, all but old _line/_error
	header []string // CSV: header of the rejects file
	width  int      // CSV: number of input columns
	comma  rune     // CSV: the input's delimiter, so the same command line reads the rejects
}

// NewRejectEncoder returns the encoder for the rejects of d.
func NewRejectEncoder(d Decoder) *RejectEncoder {
	e := &RejectEncoder{format: d.Format(), width: len(d.Header()), comma: ','}
	if dd, ok := d.(interface{ delimiter() rune }); ok {
		e.comma = dd.delimiter()
	}
	if e.format != CSV {
		return e
	}
	for i, h := range d.Header() {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case ColumnLine, ColumnError:
			continue
		}
		e.keep = append(e.keep, i)
		e.header = append(e.header, h)
	}
	e.header = append(e.header, ColumnLine, ColumnError)
	return e
}

// Header returns the bytes a new rejects file starts with (nil for NDJSON).
func (e *RejectEncoder) Header() []byte {
	if e.format != CSV {
		return nil
	}
	return csvLine(e.header, e.comma)
}

// Encode returns one rejected record, with the reason it was rejected.
func (e *RejectEncoder) Encode(rec *Record, reason string) []byte {
	if e.format != CSV {
		return jsonReject(rec, reason)
	}
	row := make([]string, 0, len(e.header)+len(rec.Raw.Fields))
	for _, i := range e.keep {
		if i < len(rec.Raw.Fields) {
			row = append(row, rec.Raw.Fields[i])
		} else {
			row = append(row, "")
		}
	}
	// Fields beyond the header's count are kept too, so nothing is lost.
	if len(rec.Raw.Fields) > e.width {
		row = append(row, rec.Raw.Fields[e.width:]...)
	}
	row = append(row, strconv.Itoa(rec.Line), reason)
	return csvLine(row, e.comma)
}

func csvLine(fields []string, comma rune) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = comma
	_ = w.Write(fields) // writing to a bytes.Buffer cannot fail
	w.Flush()
	return buf.Bytes()
}
