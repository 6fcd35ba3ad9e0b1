package invoice

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// inchMarks reads a line that RFC 4180 refuses for a quote inside a field
// that is not quoted (ErrBareQuote): supplier files write inches so, `Pan
// 9" round`. When no field of the line starts with a quote, the quotes are
// part of the text and the delimiters split it, as a spreadsheet reads it.
// A line that quotes a field keeps its syntax error: where that field ends
// is not sure.
func inchMarks(line string, comma rune, perr *csv.ParseError) ([]string, bool) {
	if !errors.Is(perr.Err, csv.ErrBareQuote) || perr.StartLine != perr.Line || strings.ContainsAny(line, "\r\n") {
		return nil, false
	}
	fields := strings.Split(line, string(comma))
	for _, f := range fields {
		if strings.HasPrefix(strings.TrimLeft(f, " \t"), `"`) {
			return nil, false
		}
	}
	return fields, true
}

// recordBytes is the length of the record read from start, less its line
// end. Blank lines before the record count too: resync passes them and
// reads the record again.
func (d *csvDecoder) recordBytes(start int64) int64 {
	n := d.offset() - start
	if b := d.tap.slice(d.offset()-2, d.offset()); bytes.HasSuffix(b, []byte("\r\n")) {
		n -= 2
	} else if bytes.HasSuffix(b, newline) {
		n--
	}
	return n
}

// resync goes on after a record longer than --max-record-bytes, which
// start begins: an unterminated quote makes the rest of the file look like
// one record. The record's first line is rejected, kept cut to
// keptOfLongRecord bytes, and a new reader starts at the next line, so the
// lines after it are read as they are. A quoted field that truly spans
// lines past the bound has its other lines rejected as they come: its text
// stays in the rejects. Blank lines before the record, which count against
// the bound too, are passed and the record read again (retry).
func (d *csvDecoder) resync(start int64) (m csvMeta, retry bool, err error) {
	read := d.tap.slice(start, math.MaxInt64) // what was read from start on
	line := d.lastLine + 1
	blank := start
	for {
		if b, ok := bytes.CutPrefix(read, []byte("\n")); ok {
			read, start, line = b, start+1, line+1
		} else if b, ok := bytes.CutPrefix(read, []byte("\r\n")); ok {
			read, start, line = b, start+2, line+1
		} else {
			break
		}
	}
	if start > blank {
		d.restart(start, read, line-1)
		return csvMeta{}, true, nil
	}
	first, rest, found := bytes.Cut(read, newline)
	size := int64(len(first))
	first = bytes.ToValidUTF8(bytes.TrimSuffix(first[:min(len(first), keptOfLongRecord)], []byte("\r")), nil) // a copy
	resume := start + size + 1
	if !found {
		// The line itself is longer than what was read: read on to its
		// end, keeping none of it.
		after, n, err := d.tap.skipLine()
		if err != nil {
			return csvMeta{}, false, err
		}
		size += n
		resume, rest = start+size+1, after
	}
	d.restart(resume, rest, line)
	msg := fmt.Sprintf("the record starting on this line is longer than --max-record-bytes %d (an unterminated quote?): "+
		"this line is rejected, and the next is read as a new record", d.opts.maxRecordBytes())
	if size > int64(d.opts.maxRecordBytes()) { // the line alone: no quote to blame
		msg = fmt.Sprintf("the line is %d bytes, longer than --max-record-bytes %d: it is rejected, and the next is read as a new record",
			size, d.opts.maxRecordBytes())
	}
	if size > keptOfLongRecord {
		msg += fmt.Sprintf("; kept here cut to its first %d bytes", len(first))
	}
	rule := fmt.Sprintf("the record is longer than --max-record-bytes %d", d.opts.maxRecordBytes())
	return csvMeta{line: line, raw: []string{string(first)}, err: &SyntaxError{Msg: msg, Rule: rule}}, false, nil
}

// restart reads on with a new reader from offset at, which starts line
// after, pending the bytes already read from there.
func (d *csvDecoder) restart(at int64, pending []byte, after int) {
	d.tap.restart(at, pending)
	d.br.Reset(d.tap) // its buffer kept: a file of long lines restarts at each
	d.r = newCSVReader(d.br, d.comma)
	d.offBase, d.lineBase, d.lastLine = at, after, after
}

var newline = []byte{'\n'}

// parseError is err's *csv.ParseError, or nil. A function of its own, so
// that only an error puts its target on the heap, not every record.
func parseError(err error) *csv.ParseError {
	var perr *csv.ParseError
	errors.As(err, &perr)
	return perr
}

// tapReader remembers the bytes read through it from a given offset on, so
// the text of a record that is not valid CSV can still be written to the
// rejects file.
type tapReader struct {
	r      io.Reader
	buf    []byte
	base   int64 // offset of buf[0]
	mark   int64 // where the record being read starts
	limit  int64 // most bytes read past mark (0: no limit)
	unread int   // bytes at the end of buf not read through yet (after restart)
}

// errRecordTooLong is a record longer than tapReader's limit.
var errRecordTooLong = errors.New("record too long")

func (t *tapReader) Read(p []byte) (int, error) {
	if t.unread > 0 {
		n := copy(p, t.buf[len(t.buf)-t.unread:])
		t.unread -= n
		return n, nil
	}
	if t.limit > 0 {
		room := t.mark + t.limit - (t.base + int64(len(t.buf)))
		if room <= 0 {
			return 0, errRecordTooLong
		}
		p = p[:min(int64(len(p)), room)]
	}
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// full says the bound was reached: no more can be read past mark.
func (t *tapReader) full() bool {
	return t.limit > 0 && t.base+int64(len(t.buf))-t.mark >= t.limit
}

// restart makes at the offset the next read starts from, pending the
// bytes already read from there on.
func (t *tapReader) restart(at int64, pending []byte) {
	t.buf = append(t.buf[:0], pending...)
	t.base, t.mark, t.unread = at, at, len(pending)
}

// skipLine reads on past the next newline, keeping nothing: n is how many
// bytes came before the newline, after what its read brought past it.
func (t *tapReader) skipLine() (after []byte, n int64, err error) {
	chunk := make([]byte, 64<<10)
	for {
		k, err := t.r.Read(chunk)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, n, err
		}
		if i := bytes.IndexByte(chunk[:k], '\n'); i >= 0 {
			return chunk[i+1 : k], n + int64(i), nil
		}
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return nil, n, nil
		}
		if err != nil {
			return nil, n, err
		}
	}
}

// slice returns the bytes at offsets [from, to).
func (t *tapReader) slice(from, to int64) []byte {
	if from < t.base {
		from = t.base
	}
	end := to - t.base
	if end > int64(len(t.buf)) {
		end = int64(len(t.buf))
	}
	return t.buf[from-t.base : end]
}

// discard forgets the bytes before offset upto. It compacts only when the
// forgotten prefix is large, so the cost per record stays small.
func (t *tapReader) discard(upto int64) {
	t.mark = upto
	drop := upto - t.base
	if drop < 256<<10 || drop > int64(len(t.buf)) {
		return
	}
	n := copy(t.buf, t.buf[drop:])
	t.buf = t.buf[:n]
	t.base = upto
}

// keepCRLF gives back the CRLF line ends inside quoted fields that
// encoding/csv turns into LF: RFC 4180 keeps a quoted field's bytes as they
// are. raw is the record's text as read; should splitting it again not
// give rec's fields, less those CRs, rec is kept as it is.
func keepCRLF(rec []string, raw []byte, comma rune) []string {
	if !bytes.Contains(raw, []byte("\r\n")) {
		return rec
	}
	sep := string(comma)
	s := string(raw)
	for strings.HasPrefix(s, "\n") || strings.HasPrefix(s, "\r\n") { // blank lines before the record
		s = s[strings.IndexByte(s, '\n')+1:]
	}
	var out []string
	for {
		var f strings.Builder
		if strings.HasPrefix(s, `"`) {
			s = s[1:]
			for {
				i := strings.IndexByte(s, '"')
				if i < 0 {
					return rec
				}
				f.WriteString(s[:i])
				if strings.HasPrefix(s[i+1:], `"`) {
					f.WriteByte('"')
					s = s[i+2:]
					continue
				}
				s = s[i+1:]
				break
			}
		}
		end := len(s)
		for _, stop := range []string{sep, "\r\n", "\n"} {
			if i := strings.Index(s, stop); i >= 0 && i < end {
				end = i
			}
		}
		f.WriteString(s[:end])
		out = append(out, f.String())
		s = s[end:]
		if !strings.HasPrefix(s, sep) {
			break
		}
		s = s[len(sep):]
	}
	if len(out) != len(rec) {
		return rec
	}
	for i := range out {
		if strings.ReplaceAll(out[i], "\r\n", "\n") != rec[i] {
			return rec
		}
	}
	return out
}
