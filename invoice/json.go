package invoice

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
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

// ---- keys to fields ----

// keyResolver matches object keys to fields the way fieldNames matches CSV
// headers: trimmed, any case, --column renames first, unknown keys ignored.
// Unlike a CSV header, keys are matched per record, since every object may
// have its own; a missing required key is an empty value for Validate.
type keyResolver struct {
	columns ColumnMap
	decimal byte                // the input's decimal separator, which numbers are written back in
	cache   map[string]keyField // raw key bytes → its field
	chosen  []chosenKey         // per record, by index in Fields; reused
}

// chosenKey is the member that gives a field its value in a record.
type chosenKey struct {
	member int // index in the members + 1; 0 = none
	rank   int
}

// keyField is what a key stands for: the index in Fields of its field (-1
// for none), and how it got there: rankMapped through --column, rankField
// by the field's own name, rankSynonym by a name of it in headers.json. A
// key of a higher rank wins over one of a lower.
type keyField struct {
	field int
	rank  int
}

const (
	rankSynonym = iota
	rankField
	rankMapped
)

// maxCachedKeys bounds the cache, so a file of ever new keys cannot grow it
// without limit.
const maxCachedKeys = 1024

func newKeyResolver(columns ColumnMap, values ValueFormat) *keyResolver {
	return &keyResolver{columns: columns, decimal: values.Decimal, cache: make(map[string]keyField), chosen: make([]chosenKey, len(Fields))}
}

// resolve returns the field of a key, given as its raw JSON string.
func (k *keyResolver) resolve(rawKey []byte) keyField {
	if f, ok := k.cache[string(rawKey)]; ok {
		return f
	}
	name := strings.ToLower(strings.TrimSpace(unquote(rawKey)))
	f := keyField{field: -1}
	if field, ok := k.columns[name]; ok {
		f = keyField{field: fieldIndex(field), rank: rankMapped}
	} else if f.field = fieldIndex(name); f.field >= 0 {
		f.rank = rankField
	} else if field, ok := synonyms[headerKey(name)]; ok && !k.columns.maps(field) {
		f = keyField{field: fieldIndex(field), rank: rankSynonym}
	}
	if len(k.cache) < maxCachedKeys {
		k.cache[string(rawKey)] = f
	}
	return f
}

// fill sets v from an object's members. Two keys giving the same field are
// an error, except that a key renamed by --column wins over a key that
// merely carries the field's own name, which wins over a synonym, as for
// CSV headers.
func (k *keyResolver) fill(v *Values, members []member) error {
	chosen := k.chosen
	clear(chosen)
	for i, m := range members {
		kf := k.resolve(m.key)
		if kf.field < 0 {
			continue
		}
		c := &chosen[kf.field]
		if c.member > 0 {
			switch {
			case kf.rank < c.rank:
				continue // shadowed by --column, or by the field's own name
			case kf.rank == c.rank:
				prev := unquote(members[c.member-1].key)
				return &FieldError{Field: Fields[kf.field], Rule: fmt.Sprintf("is given twice, by keys %q and %q", prev, unquote(m.key))}
			}
		}
		c.member, c.rank = i+1, kf.rank
	}
	// Every field that can be read is, even after one that cannot: where a
	// rejected record came from (_run, _record) must survive its errors.
	var first error
	for f, c := range chosen {
		if c.member == 0 {
			continue
		}
		raw := members[c.member-1].value
		s, err := scalar(Fields[f], raw)
		if err != nil && first == nil {
			first = err
		}
		if name := Fields[f]; raw[0] != '"' && k.decimal == ',' && (name == FieldQuantity || name == FieldUnitPrice) {
			// A JSON number has a point whatever the locale, and no
			// thousands separator: written back with the input's decimal
			// separator, the validation reads it as the number it is
			// (1.250 as 1,250, not 1250, with --thousands-separator .).
			// Text fields keep it as written.
			s = strings.Replace(s, ".", ",", 1)
		}
		*valueOf(v, f) = s
	}
	return first
}

// scalar is a field's value as text: a string's contents, a number's digits
// exactly as written (never through float64), "" for null.
func scalar(field string, raw []byte) (string, error) {
	switch raw[0] {
	case '"':
		if esc, ok := loneSurrogate(raw); ok {
			// Decoding would quietly make it U+FFFD.
			return "", &FieldError{Field: field, Rule: "must not hold a lone UTF-16 surrogate (an escape that is half of a character)", Value: esc}
		}
		return unquote(raw), nil
	case 'n':
		return "", nil
	case 't', 'f', '{', '[':
		return "", &FieldError{Field: field, Rule: "must be a string or a number", Value: shorten(string(compact(raw)))}
	}
	return string(raw), nil
}

// loneSurrogate finds a \uD800-\uDFFF escape in a raw JSON string that
// is not half of a high-low pair, and returns it as written.
func loneSurrogate(raw []byte) (string, bool) {
	surrogate := func(i int) (rune, bool) { // the escape at raw[i:], if any
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := surrogate(i)
		switch {
		case !ok:
			i++ // another escape: skip its second byte
		case r >= 0xD800 && r < 0xDC00:
			if low, ok := surrogate(i + 6); ok && low >= 0xDC00 && low < 0xE000 {
				i += 11
				continue
			}
			return string(raw[i : i+6]), true
		case r >= 0xDC00 && r < 0xE000:
			return string(raw[i : i+6]), true
		default:
			i += 5
		}
	}
	return "", false
}

// fieldIndex is the index of name in Fields, or -1.
func fieldIndex(name string) int {
	for i, f := range Fields {
		if f == name {
			return i
		}
	}
	return -1
}

// valueOf returns the member of v that holds Fields[i].
func valueOf(v *Values, i int) *string {
	p := v.field(Fields[i])
	if p == nil {
		panic("invoice: no Values member for field " + Fields[i])
	}
	return p
}

// unquote returns the text of a raw JSON string. Bytes that are not valid
// UTF-8 are kept as they are, so that Validate rejects them as it does for
// CSV; decoding would quietly turn them into U+FFFD.
func unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 || !utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(inner)
	}
	return s
}

// ---- objects as ordered members ----

// member is one key and value of a JSON object, both as raw JSON.
type member struct {
	key   []byte // the quoted key, escapes as written
	value []byte
	// long marks a value around the records too long to keep (--records):
	// a record that would inherit it is rejected, never given a value cut
	// short or a farther object's.
	long bool
}

// objectMembers splits obj, which must already be known to be valid JSON,
// into its members in input order, appending to dst. ok is false when obj
// is not an object. Because validity is checked first, this needs only to
// find where each key and value ends; it never reads past obj.
func objectMembers(obj []byte, dst []member) (out []member, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return dst, false
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) {
			return dst, false
		}
		switch obj[i] {
		case '}':
			return dst, true
		case ',':
			i = skipSpace(obj, i+1)
		}
		keyEnd := stringEnd(obj, i)
		if keyEnd < 0 {
			return dst, false
		}
		colon := skipSpace(obj, keyEnd)
		if colon >= len(obj) || obj[colon] != ':' {
			return dst, false
		}
		start := skipSpace(obj, colon+1)
		end := valueEnd(obj, start)
		if end < 0 {
			return dst, false
		}
		dst = append(dst, member{key: obj[i:keyEnd], value: obj[start:end]})
		i = end
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// isSpace reports whether c is in jsonSpace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// stringEnd returns the offset just past the JSON string starting at b[i],
// or -1.
func stringEnd(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the offset just past the JSON value starting at b[i], or
// -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i // a number, true, false or null: up to the next separator
	for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
}

// kindOf names the kind of the JSON value raw, for messages.
func kindOf(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// quoteByte quotes a byte for a message, the way encoding/json does.
func quoteByte(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	q := strconv.QuoteToASCII(string([]byte{c})) // a lone byte ≥ 0x80 shows as \xNN
	return "'" + q[1:len(q)-1] + "'"
}

// compact removes insignificant whitespace from valid JSON, so that a nested
// value spanning lines fits on one NDJSON line.
func compact(raw []byte) []byte {
	if raw[0] != '{' && raw[0] != '[' {
		return raw // a string, number or literal has no whitespace to remove
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// ---- rejects ----

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
