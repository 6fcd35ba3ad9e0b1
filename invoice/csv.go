package invoice

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// csvDecoder reads CSV with encoding/csv (for the physical line of each
// record and RFC 4180 quoting) and fills a Values per record from the
// columns the header resolved to fields. Records are read ahead, up to
// csvAhead: no record crosses a channel. Reading ahead stops where it would
// wait for input (a slow stream): a record already read does not wait for
// the ones after it.
type csvDecoder struct {
	opts   Options
	seen   *seen    // values validated (finish)
	header []string // as read
	fields []string // field of each column, "" when ignored

	tap   *tapReader
	br    *bufio.Reader // what r reads through: what it holds can be read without waiting
	r     *csv.Reader
	comma rune
	// offBase and lineBase are where r started in the input: a record
	// longer than --max-record-bytes makes a new reader at the next line.
	offBase  int64
	lineBase int
	lastLine int // the line the last record read ends on

	metas []csvMeta // the records read ahead
	next  int       // the first of them Next has not returned
	rec   Record    // what Next returned last, reused: a valid row keeps only its Raw
	err   error     // what ended reading (io.EOF at the end), once they are returned
}

// csvAhead is the most records read ahead.
const csvAhead = 128

// csvMeta is a record read ahead, less its values.
type csvMeta struct {
	line   int
	raw    []string
	text   string // a plain line of the header's field count, instead of raw
	err    error
	origin Origin // of a record with more fields than the header, read from its end
	// miscounted says the record is valid CSV with another field count
	// than the header's.
	miscounted bool
}

var _ Decoder = (*csvDecoder)(nil)

func newCSVDecoder(r io.Reader, opts Options) (*csvDecoder, error) {
	// A record may take at most --max-record-bytes, and what csv.Reader
	// reads ahead: an unterminated quote makes the rest of the file one
	// record, which must not be held whole.
	tap := &tapReader{r: r, limit: int64(opts.maxRecordBytes()) + 64<<10}
	br := bufio.NewReaderSize(tap, 64<<10)
	// Excel's "sep=;" line names the delimiter, unless --delimiter does.
	var base int64 // where cr starts: after that line
	lineBase := 0
	if sep, n := excelSep(br); n > 0 {
		_, _ = br.Discard(n)
		base, lineBase = int64(n), 1
		if opts.Delimiter == 0 {
			opts.Delimiter = sep
		}
	}
	cr := newCSVReader(br, opts.Delimiter)
	// The header is the first line whose columns give the fields, within
	// the first SkipLines+1: the title lines a report puts above it are
	// skipped, and a file without them (its rejects file) reads the same.
	var header, fields []string
	lines := 0 // lines read so far: title lines and header
	consume := func() {
		to := base + cr.InputOffset()
		lines += bytes.Count(tap.slice(tap.mark, to), newline)
		tap.discard(to)
	}
	for tries := 0; ; tries++ {
		var err error
		header, err = cr.Read()
		switch {
		case errors.Is(err, io.EOF) && tries == 0:
			return nil, &FatalError{Msg: "the file is empty: no header line"}
		case errors.Is(err, io.EOF):
			return nil, &FatalError{Msg: fmt.Sprintf("no header line among the first %d lines (--skip-lines %d)", tries, opts.SkipLines)}
		case errors.Is(err, errRecordTooLong):
			return nil, &FatalError{Msg: fmt.Sprintf("no header within the first %d bytes (--max-record-bytes)", opts.maxRecordBytes())}
		case err != nil:
			var perr *csv.ParseError
			if errors.As(err, &perr) && tries >= opts.SkipLines {
				return nil, &FatalError{Line: lineBase + perr.StartLine, Msg: fmt.Sprintf("header: CSV syntax: %v", perr.Err)}
			}
			if perr == nil {
				return nil, err
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		line += lineBase
		fields, err = fieldNames(header, opts.Columns, opts.Set)
		if err == nil {
			break
		}
		consume() // a title line is not kept
		if tries >= opts.SkipLines {
			if fe, ok := err.(*FatalError); ok {
				fe.Line = line
				if opts.SkipLines > 0 {
					fe.Msg += fmt.Sprintf(" (no line among the first %d is a header: --skip-lines %d)", opts.SkipLines+1, opts.SkipLines)
				}
			}
			return nil, err
		}
	}
	consume()
	return &csvDecoder{opts: opts, seen: newSeen(), header: header, fields: fields, tap: tap, br: br, r: cr, comma: cr.Comma, lastLine: lines,
		offBase: base, lineBase: lineBase}, nil
}

// excelSep reads the "sep=;" line Excel writes first to name a CSV file's
// delimiter, and how long it is with its line end; 0 when the input does
// not start with one.
func excelSep(br *bufio.Reader) (rune, int) {
	head, _ := br.Peek(8)
	line, _, ok := bytes.Cut(head, newline)
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !ok || len(line) != 5 || !bytes.HasPrefix(bytes.ToLower(line), []byte("sep=")) || line[4] == '"' || line[4] == ' ' {
		return 0, 0
	}
	return rune(line[4]), bytes.IndexByte(head, '\n') + 1
}

// newCSVReader reads CSV records of any field count (a wrong count rejects
// the record, not the file), each in fields of its own (raw fields are
// kept for the rejects file).
// It reads through br as it is (csv.Reader wraps no other buffer around
// it), so reading ahead stops at the end of what br holds: 64 KiB hold
// hundreds of records.
func newCSVReader(br *bufio.Reader, delimiter rune) *csv.Reader {
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	if delimiter != 0 {
		cr.Comma = delimiter
	}
	return cr
}

// offset is where the reader is in the input.
func (d *csvDecoder) offset() int64 { return d.offBase + d.r.InputOffset() }

// lineOf is the input line of field i of the record just read.
func (d *csvDecoder) lineOf(i int) int {
	line, _ := d.r.FieldPos(i)
	return d.lineBase + line
}

func (d *csvDecoder) Header() []string { return d.header }
func (d *csvDecoder) Format() Format   { return CSV }
func (d *csvDecoder) delimiter() rune  { return d.comma }

func (d *csvDecoder) Next() (*Record, error) {
	if d.next == len(d.metas) {
		if d.err != nil {
			return nil, d.err
		}
		if d.fill(); len(d.metas) == 0 {
			return nil, d.err
		}
	}
	m := &d.metas[d.next]
	d.next++
	d.rec = Record{Line: m.line, Raw: RawRecord{Fields: m.raw, Line: m.text}, Err: m.err, Origin: m.origin}
	rec := &d.rec
	switch {
	case m.text != "":
		v := d.lineValues(m.text)
		rec.finish(&v, &d.opts, d.seen)
	case m.err == nil:
		v := d.values(m.raw)
		rec.finish(&v, &d.opts, d.seen)
	case m.miscounted && d.opts.SkipNonLines:
		// A note row is often shorter than the header: its fields, as
		// far as they go, still tell that it is no line.
		v := d.values(m.raw)
		d.opts.setConstants(&v)
		if d.opts.isNonLine(&v) {
			rec.finish(&v, &d.opts, d.seen)
		}
	}
	return rec, nil
}

// fill reads records ahead, up to csvAhead and while a whole line is
// already read from the input. What ends reading, the end of the input or
// a failure, is kept in d.err for when the records read before it are
// returned.
func (d *csvDecoder) fill() {
	clear(d.metas)
	d.metas, d.next = d.metas[:0], 0
	for len(d.metas) < csvAhead && (len(d.metas) == 0 || d.lineHeld()) {
		m, err := d.read()
		if err != nil {
			d.err = err
			break
		}
		d.metas = append(d.metas, m)
	}
}

// values are a record's fields, column by column as the header resolved
// them. A record short of the header's columns leaves the rest empty; one
// with more has those past the header ignored.
func (d *csvDecoder) values(rec []string) Values {
	var v Values
	for i, field := range d.fields[:min(len(d.fields), len(rec))] {
		if field != "" {
			*v.field(field) = rec[i]
		}
	}
	return v
}

// lineHeld says whether the input read so far holds a whole line more, so
// that reading the next record (unless quotes make it span lines) does not
// wait for input.
func (d *csvDecoder) lineHeld() bool {
	b, _ := d.br.Peek(d.br.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}

func (d *csvDecoder) Close() error { return nil }

// originFromEnd reads _run and _record of a record with more fields than
// the header: a rejects file keeps extra fields before the columns it adds,
// so those are counted from the end.
func (d *csvDecoder) originFromEnd(rec []string) Origin {
	run, record := slices.Index(d.fields, FieldRun), slices.Index(d.fields, FieldRecord)
	if run < 0 || record < 0 || len(rec) < len(d.header) {
		return Origin{}
	}
	shift := len(rec) - len(d.header)
	o, _ := parseOrigin(rec[run+shift], rec[record+shift])
	return o
}

// read reads the next record. A record that cannot be split into fields
// has its text whole as its one raw field, and its error says why; io.EOF
// ends the input.
func (d *csvDecoder) read() (csvMeta, error) {
	if m, ok := d.plainLine(); ok {
		return m, nil
	}
	start := d.offset()
	rec, err := d.r.Read()
	if errors.Is(err, io.EOF) {
		return csvMeta{}, io.EOF
	}
	if (err == nil || parseError(err) != nil) && d.recordBytes(start) > int64(d.opts.maxRecordBytes()) {
		// Read whole, within the tap's slack, but longer than the bound.
		err = errRecordTooLong
	}
	var m csvMeta
	resynced := false
	switch {
	case errors.Is(err, errRecordTooLong) || err != nil && d.tap.full():
		// A syntax error found in a record cut by the bound is the bound's.
		var retry bool
		if m, retry, err = d.resync(start); err != nil {
			return m, err
		}
		if retry {
			return d.read()
		}
		resynced = true
	case err != nil:
		perr := parseError(err)
		if perr == nil {
			return m, err
		}
		raw := strings.TrimRight(string(d.tap.slice(start, d.offset())), "\r\n")
		if rec, ok := inchMarks(strings.TrimLeft(raw, "\r\n"), d.comma, perr); ok { // blank lines before it are none of it
			m = d.meta(d.lineBase+perr.StartLine, rec)
			break
		}
		// The record cannot be split into fields; keep its text whole in the
		// first column so that the rejects file loses nothing.
		m = csvMeta{line: d.lineBase + perr.StartLine, raw: []string{raw}, err: &SyntaxError{Msg: fmt.Sprintf("CSV syntax: %v (line %d, column %d)",
			perr.Err, d.lineBase+perr.Line, perr.Column), Rule: "CSV syntax: " + perr.Err.Error()}}
	case len(rec) > MaxColumns:
		line := d.lineOf(0)
		raw := d.tap.slice(start, d.offset())
		raw = bytes.ToValidUTF8(raw[:min(len(raw), keptOfLongRecord)], nil)
		m = csvMeta{line: line, raw: []string{string(raw)}, err: &SyntaxError{Msg: fmt.Sprintf(
			"record has %d fields, more than %d; it is kept here whole in one field, cut to its first %d bytes", len(rec), MaxColumns, len(raw)),
			Rule: fmt.Sprintf("record has more than %d fields", MaxColumns)}}
	default:
		line := d.lineOf(0)
		// Only a record that spans lines can hold a quoted line end: a
		// look at where its last field starts, not a scan of every field.
		if d.lineOf(len(rec)-1) > line || strings.Contains(rec[len(rec)-1], "\n") {
			rec = keepCRLF(rec, d.tap.slice(start, d.offset()), d.comma)
		}
		m = d.meta(line, rec)
	}
	if resynced {
		d.lastLine = m.line
	} else {
		d.lastLine += bytes.Count(d.tap.slice(start, d.offset()), newline)
	}
	d.tap.discard(d.offset())
	return m, nil
}

// meta is a record read whole, of line: an error when it has another
// number of fields than the header.
func (d *csvDecoder) meta(line int, rec []string) csvMeta {
	m := csvMeta{line: line, raw: rec}
	if len(rec) != len(d.header) {
		m.err = &SyntaxError{Msg: fmt.Sprintf("record has %d fields, the header has %d", len(rec), len(d.header))}
		m.miscounted = true
		m.origin = d.originFromEnd(rec)
	}
	return m
}
