package invoice

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonDecoder is the Decoder of JSON arrays and NDJSON. A source splits the
// input into elements (one per array element or non-blank line) and knows
// the line each starts on; the decoder turns each element into a Record.
type jsonDecoder struct {
	format  Format
	opts    Options
	seen    *seen // values validated (finish)
	keys    *keyResolver
	src     elementSource
	members []member // of the record being decoded; reused
	err     error    // sticky: io.EOF, a *FatalError or an I/O error
}

var _ Decoder = (*jsonDecoder)(nil)

// element is one top-level item of the input, as read.
type element struct {
	line int    // 1-based line of its first byte
	raw  []byte // its bytes exactly as in the input
	bad  string // why it is not a record at all; "" for a JSON object
	rule string // bad less what differs from element to element (SyntaxError.Rule)
}

// elementSource yields the elements of an input in order, then io.EOF; any
// other error ends the input.
type elementSource interface {
	next() (element, error)
}

// newJSONDecoder decodes a JSON array of objects (opts.Format JSON) or one
// object per line (NDJSON), streaming: only the element being decoded is
// held in memory. For JSON, the opening bracket is read here, so an empty
// file or a top-level value that is not an array is reported before any
// record, like a bad CSV header.
func newJSONDecoder(r io.Reader, opts Options) (Decoder, error) {
	d := &jsonDecoder{format: opts.Format, opts: opts, seen: newSeen(), keys: newKeyResolver(opts.Columns, opts.Values)}
	switch opts.Format {
	case NDJSON:
		// NewDecoder hands us a bufio.Reader already; NewReaderSize reuses it.
		d.src = &ndjsonSource{br: bufio.NewReaderSize(r, 64<<10), max: opts.maxRecordBytes()}
	case JSON:
		if len(opts.Records) > 0 {
			src, err := newRecordsSource(r, opts.Records, d.keys, opts.maxRecordBytes())
			if err != nil {
				return nil, err
			}
			d.src = src
			break
		}
		src, err := newArraySource(r, opts.maxRecordBytes())
		if err != nil {
			return nil, err
		}
		d.src = src
	default:
		return nil, fmt.Errorf("newJSONDecoder: format %q is not JSON", opts.Format)
	}
	return d, nil
}

func (d *jsonDecoder) Header() []string { return nil }
func (d *jsonDecoder) Format() Format   { return d.format }

// Close marks the decoder done, and stops a --records walk.
func (d *jsonDecoder) Close() error {
	if d.err == nil {
		d.err = io.EOF
	}
	if s, ok := d.src.(*recordsSource); ok {
		s.stop()
	}
	return nil
}

func (d *jsonDecoder) Next() (*Record, error) {
	if d.err != nil {
		return nil, d.err
	}
	el, err := d.src.next()
	if err != nil {
		d.err = err
		return nil, err
	}
	return d.record(el), nil
}

// record turns an element into a Record: fields by key, then the same
// validation as CSV.
func (d *jsonDecoder) record(el element) *Record {
	rec := &Record{Line: el.line, Raw: RawRecord{Object: el.raw}}
	if el.bad != "" {
		rec.Err = &SyntaxError{Msg: el.bad, Rule: el.rule}
		return rec
	}
	members, ok := objectMembers(el.raw, d.members[:0])
	d.members = members
	if !ok { // the sources check validity and kind first; this is a safety net
		rec.Err = &SyntaxError{Msg: "not a JSON object"}
		return rec
	}
	var v Values
	err := d.keys.fill(&v, members)
	rec.finish(&v, &d.opts, d.seen)
	if err != nil {
		rec.Err = err
	}
	return rec
}

// ---- NDJSON ----

// ndjsonSource reads one element per line. A line longer than max is read
// to its end but not kept: its record is rejected with its first bytes.
type ndjsonSource struct {
	br   *bufio.Reader
	max  int // bytes of a line kept, at most
	line int // lines read so far, blank ones included
	eof  bool
}

// keptOfLongRecord is how much of a record over the limit its reject keeps.
const keptOfLongRecord = 4 << 10

func (s *ndjsonSource) next() (element, error) {
	for !s.eof {
		b, n, err := s.readLine()
		if err == nil {
			n-- // the newline
		}
		if n > s.max && (err == nil || errors.Is(err, io.EOF)) {
			s.line++
			if errors.Is(err, io.EOF) {
				s.eof = true
			}
			cut := bytes.ToValidUTF8(b[:min(len(b), keptOfLongRecord)], nil)
			return element{line: s.line, raw: cut, bad: fmt.Sprintf("the line is %d bytes, more than --max-record-bytes %d; it is kept here cut to its first %d bytes", n, s.max, len(cut)),
				rule: fmt.Sprintf("the line is longer than --max-record-bytes %d", s.max)}, nil
		}
		switch {
		case errors.Is(err, io.EOF):
			s.eof = true
			if len(b) == 0 {
				return element{}, io.EOF
			}
		case err != nil:
			return element{}, readError(err)
		}
		s.line++
		obj := bytes.Trim(b, jsonSpace)
		if len(obj) == 0 {
			continue // a blank line is no record
		}
		if err := checkJSON(obj); err != nil {
			line := bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
			return element{line: s.line, raw: line, bad: err.Error()}, nil
		}
		el := element{line: s.line, raw: obj}
		if obj[0] != '{' {
			el.bad = "the line is " + kindOf(obj) + ", not a JSON object"
		}
		return el, nil
	}
	return element{}, io.EOF
}

// readLine reads a line, keeping at most max+1 bytes of it (and at least
// keptOfLongRecord); n is its whole length. Memory stays bounded however
// long the line.
func (s *ndjsonSource) readLine() (line []byte, n int, err error) {
	keep := max(s.max+1, keptOfLongRecord)
	for {
		chunk, err := s.br.ReadSlice('\n')
		n += len(chunk)
		if room := keep - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, n, err
		}
	}
}

// jsonSpace is the whitespace of RFC 8259. Other Unicode spaces make a line
// malformed rather than blank, so no line is dropped silently.
const jsonSpace = " \t\r\n"

// checkJSON reports why b is not exactly one JSON value, with the byte
// position in the line where the problem is.
func checkJSON(b []byte) error {
	if json.Valid(b) {
		return nil
	}
	var raw json.RawMessage
	err := json.Unmarshal(b, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON: %s (at byte %d of the line)", se.Error(), se.Offset)
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

// jsonReject encodes a rejected JSON record as one NDJSON line: the original
// object, its keys and values as written (nested values compacted onto one
// line), with "_line" and "_error" added at the end. Earlier "_line" and
// "_error" keys, from a rejects file imported again, are replaced. A record
// that is not a JSON object (a malformed NDJSON line) is kept whole as the
// string "_raw".
func jsonReject(rec *Record, run int64, reason string) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	var members []member
	ok := json.Valid(rec.Raw.Object)
	if ok {
		members, ok = objectMembers(rec.Raw.Object, nil)
	}
	if ok {
		for _, m := range members {
			if isRejectColumn(unquote(m.key)) {
				continue
			}
			buf.Write(m.key)
			buf.WriteByte(':')
			buf.Write(compact(m.value))
			buf.WriteByte(',')
		}
	} else {
		buf.WriteString(`"_raw":`)
		writeString(&buf, string(rec.Raw.Object))
		buf.WriteByte(',')
	}
	if run > 0 {
		fmt.Fprintf(&buf, `"%s":%d,"%s":%d,`, FieldRun, run, FieldRecord, rec.Seq)
	}
	buf.WriteString(`"` + ColumnLine + `":`)
	buf.WriteString(strconv.Itoa(rec.Line))
	buf.WriteString(`,"` + ColumnError + `":`)
	writeString(&buf, reason)
	buf.WriteString("}\n")
	return buf.Bytes()
}

// writeString writes s as a JSON string, leaving <, > and & readable.
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	// Encode ends the value with a newline, which has no place in the middle
	// of a line.
	buf.Truncate(buf.Len() - 1)
}
