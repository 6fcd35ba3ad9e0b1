package invoice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// arraySource reads the elements of a top-level JSON array with
// encoding/json's streaming Decoder. Elements are decoded as
// json.RawMessage, which keeps their bytes and, unlike decoding into any,
// never turns a number into a float64.
type arraySource struct {
	dec   *json.Decoder
	lines *lineCounter
	base  int64 // the input offset of dec's start: an element over the bound makes a new decoder
	n     int   // elements read so far
	comma bool  // a comma must come before the next element
	due   bool  // a comma was read: an element must come
	from  int64 // where the bound of the next element starts, when not at what was read (0)
	done  bool  // the closing ] has been read
}

// offset is where the decoder is in the input.
func (s *arraySource) offset() int64 { return s.base + s.dec.InputOffset() }

func newArraySource(r io.Reader, maxElement int) (*arraySource, error) {
	// An element may take at most maxElement bytes, and what the decoder
	// reads ahead: a 300 MB element must not be held whole.
	lc := &lineCounter{r: r, limit: int64(maxElement) + 64<<10}
	s := &arraySource{dec: json.NewDecoder(lc), lines: lc}
	// Token decodes a top-level scalar into an any; a number must not become
	// a float64 (nor fail to, when it is out of range).
	s.dec.UseNumber()
	s.dec.More() // skips leading whitespace, so offset is the value's start
	for at, ok := s.spaceEnd(); ok; at, ok = s.spaceEnd() {
		// Whitespace past the bound before the array: a new decoder
		// starts after it, as pastSpace does inside the array.
		s.dec, lc.mark, s.base = json.NewDecoder(lc), lc.read, at
		s.dec.UseNumber()
		s.dec.More()
	}
	start := s.offset()
	tok, err := s.dec.Token()
	switch {
	case lc.err != nil:
		return nil, lc.err
	case errors.Is(err, io.EOF):
		return nil, &FatalError{Msg: "the file is empty: a JSON input must be an array of objects"}
	case err != nil:
		return nil, s.syntaxError(err, start)
	case tok != json.Delim('['):
		return nil, &FatalError{Line: lc.lineAt(start), Msg: "a JSON input must be an array of objects; use --format ndjson for one object per line"}
	}
	return s, nil
}

func (s *arraySource) next() (element, error) {
	if s.done {
		return element{}, io.EOF
	}
	from := s.lines.read
	if s.from > 0 {
		from, s.from = s.from, 0
	}
	s.lines.mark = from
	if !s.dec.More() {
		if s.pastSpace() {
			return s.next()
		}
		if s.due && s.peekByte() == ']' {
			return element{}, s.fatal(s.offset(), "JSON syntax error: invalid character ']' after , in the array (expected a value)")
		}
		return element{}, s.end()
	}
	// The decoder would report a missing comma with a stream offset, but one
	// that cannot be told apart from its other errors, so check it here.
	if s.comma {
		if c := s.peekByte(); c != ',' {
			return element{}, s.fatal(s.offset(), afterElement(c))
		}
	}
	var raw json.RawMessage
	s.lines.mark = from
	if err := s.dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, errRecordTooLong):
			return s.skip(false)
		case errors.As(err, &se) && strings.Contains(se.Error(), "exceeded max depth"):
			// Valid JSON, nested past what the decoder reads: that
			// element's reject, not the end of the file.
			return s.skip(true)
		}
		return element{}, s.syntaxError(err, -1)
	}
	s.n++
	s.comma, s.due = true, false
	// The decoder stops right after the element, and raw holds its bytes
	// without the whitespace before it, so it starts at end - len(raw).
	begin := s.offset() - int64(len(raw))
	el := element{line: s.lines.lineAt(begin), raw: raw}
	if raw[0] != '{' {
		el.bad = fmt.Sprintf("array element %d is %s, not a JSON object", s.n, kindOf(raw))
		el.rule = fmt.Sprintf("array element is %s, not a JSON object", kindOf(raw))
	}
	return el, nil
}

// end reads the closing bracket and makes sure nothing but whitespace
// follows it.
func (s *arraySource) end() error {
	at := s.offset()
	tok, err := s.dec.Token()
	if err != nil {
		return s.syntaxError(err, at)
	}
	if tok != json.Delim(']') { // More said no, so this cannot happen
		return s.fatal(at, "JSON syntax error: expected ] to close the array")
	}
	s.done = true
	// Only whitespace may follow, to the end of the input, however much.
	rest, _ := io.ReadAll(s.dec.Buffered())
	if _, at, err := s.nextByte(&rest); err == nil {
		return s.fatal(at, "JSON syntax error: unexpected data after the closing ] of the array")
	}
	if s.lines.err != nil {
		return s.lines.err
	}
	return io.EOF
}

// afterElement is the error of a byte other than , or ] after an element.
func afterElement(c byte) string {
	return fmt.Sprintf("JSON syntax error: invalid character %s after array element (expected , or ])", quoteByte(c))
}

// skip passes over an element longer than --max-record-bytes, or nested
// deeper than the decoder reads (deep), which the decoder failed on,
// keeping only its first bytes for its reject, and goes on after it with a
// new decoder. Whitespace before the element counts against the bound too:
// past it, the element is read again.
func (s *arraySource) skip(deep bool) (element, error) {
	held, _ := io.ReadAll(s.dec.Buffered()) // the element from its start, as far as the decoder read
	lead := len(held) - len(bytes.TrimLeft(held, jsonSpace))
	begin := s.offset() + int64(lead)
	if lead > 0 {
		// The bound counted the whitespace: read the element again from
		// its start.
		s.lines.lineAt(begin)           // newlines passed are counted, not kept
		s.comma, s.due = false, s.comma // the decoder read the comma before it, if one
		s.restart(begin, held[lead:])
		s.from = begin
		return s.next()
	}
	s.n++
	el := element{line: s.lines.lineAt(begin), raw: bytes.ToValidUTF8(held[lead:min(len(held), lead+keptOfLongRecord)], nil)}
	var k skipper
	size, rest := int64(len(held)-lead), held[lead:]
	end, err := k.feed(rest)
	if end >= 0 {
		size, rest = int64(end), rest[end:]
	} else {
		buf := make([]byte, 64<<10)
		for err == nil {
			s.lines.lineAt(s.lines.read - 1) // newlines skipped are counted, not kept
			s.lines.mark = s.lines.read      // no bound on what is skipped: it is not kept
			n, rerr := s.lines.Read(buf)
			if end, err = k.feed(buf[:n]); end >= 0 {
				size, rest = size+int64(end), buf[end:n]
				break
			}
			size += int64(n)
			switch {
			case err != nil:
			case s.lines.err != nil:
				return element{}, s.lines.err
			case rerr != nil:
				return element{}, s.fatal(s.lines.read-1, fmt.Sprintf("JSON syntax error: unexpected end of input in the array element that starts on line %d", el.line))
			}
		}
	}
	if err != nil {
		return element{}, &FatalError{Line: el.line, Msg: fmt.Sprintf("JSON syntax error in array element %d: %v", s.n, err)}
	}
	if deep {
		el.bad = fmt.Sprintf("array element %d is nested deeper than %d levels; it is kept here cut to its first %d bytes", s.n, maxDepth, len(el.raw))
		el.rule = fmt.Sprintf("array element nested deeper than %d levels", maxDepth)
	} else {
		el.bad = fmt.Sprintf("array element %d is %d bytes, more than --max-record-bytes %d; it is kept here cut to its first %d bytes",
			s.n, size, s.lines.limit-64<<10, len(el.raw))
		el.rule = fmt.Sprintf("array element longer than --max-record-bytes %d", s.lines.limit-64<<10)
	}
	// What follows must be a comma (read here) or the closing bracket.
	comma := false
	for {
		c, at, err := s.nextByte(&rest)
		switch {
		case err != nil: // end() finds the array not closed
		case c == ',' && !comma:
			rest, comma = rest[1:], true
			continue
		case c == ']' && comma:
			return element{}, s.fatal(at, "JSON syntax error: invalid character ']' after , in the array (expected a value)")
		case c != ']' && !comma:
			return element{}, s.fatal(at, afterElement(c))
		}
		s.comma, s.due = false, comma
		s.restart(at, rest)
		return el, nil
	}
}

// nextByte finds the next byte that is not whitespace in *rest, the last
// bytes read, reading on as needed; at is its input offset.
func (s *arraySource) nextByte(rest *[]byte) (c byte, at int64, err error) {
	for {
		*rest = bytes.TrimLeft(*rest, jsonSpace)
		at = s.lines.read - int64(len(*rest))
		if len(*rest) > 0 {
			return (*rest)[0], at, nil
		}
		b := make([]byte, 64<<10)
		s.lines.lineAt(s.lines.read - 1) // newlines passed are counted, not kept
		s.lines.mark = s.lines.read
		n, err := s.lines.Read(b)
		*rest = b[:n]
		if n == 0 && err != nil {
			return 0, at, err
		}
	}
}

// restart goes on with a new decoder inside the array, at offset at, from
// the bytes pending that were read from there on and the rest of the
// input: before a comma when s.comma says one must come, else before an
// element or the closing bracket.
func (s *arraySource) restart(at int64, pending []byte) {
	// "[" puts the decoder inside an array, and "[0 " after an element
	// (the space ends the number without reading the input).
	prefix := "["
	if s.comma {
		prefix = "[0 "
	}
	s.dec = json.NewDecoder(io.MultiReader(strings.NewReader(prefix), bytes.NewReader(pending), s.lines))
	s.dec.UseNumber()
	s.lines.mark = s.lines.read
	s.base = at - int64(len(prefix))
	_, _ = s.dec.Token()
	if s.comma {
		var zero json.RawMessage
		_ = s.dec.Decode(&zero)
	}
}

// pastSpace says whether the decoder stopped on whitespace longer than the
// bound, between elements: if so, a new decoder starts past it.
func (s *arraySource) pastSpace() bool {
	at, ok := s.spaceEnd()
	if ok {
		s.restart(at, nil)
	}
	return ok
}

// spaceEnd is where the whitespace ends that the decoder stopped on, the
// decoder keeping all it skips, when it is longer than the bound; ok is
// false when the decoder stopped on anything else.
func (s *arraySource) spaceEnd() (at int64, ok bool) {
	if s.lines.read-s.lines.mark < s.lines.limit {
		return 0, false
	}
	held, _ := io.ReadAll(s.dec.Buffered())
	if len(bytes.TrimLeft(held, jsonSpace)) > 0 {
		return 0, false
	}
	at = s.offset() + int64(len(held))
	s.lines.lineAt(at) // newlines passed are counted, not kept
	return at, true
}

// peekByte returns the next unread byte, which More has made sure is
// buffered and not whitespace.
func (s *arraySource) peekByte() byte {
	var b [1]byte
	_, _ = s.dec.Buffered().Read(b[:])
	return b[0]
}

// syntaxError turns an error of the JSON decoder into a *FatalError naming
// the line where the input stops being JSON. at is the offset of the
// offending token when the caller knows it (errors of Token), or -1 after a
// failed Decode of an element.
func (s *arraySource) syntaxError(err error, at int64) error {
	if s.lines.err != nil {
		return s.lines.err // the reader failed (a broken gzip stream, say)
	}
	var se *json.SyntaxError
	switch {
	case at < 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		start := s.lines.lineAt(s.elementStart())
		return s.fatal(s.lines.read-1, fmt.Sprintf("JSON syntax error: unexpected end of input in the array element that starts on line %d", start))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return s.fatal(s.lines.read-1, "JSON syntax error: unexpected end of input: the array is not closed with ]")
	case !errors.As(err, &se):
		return err
	case at < 0:
		at = s.errorOffset()
	}
	return s.fatal(at, "JSON syntax error: "+se.Error())
}

// errorOffset finds the stream offset of a syntax error in the element a
// Decode failed on. encoding/json's SyntaxError.Offset cannot be used for
// that: the Decoder counts only the bytes of the values it scanned, not the
// separators it skipped. So the bytes it still holds, which start at the
// failed element and reach as far as it read, are checked again on their own.
func (s *arraySource) errorOffset() int64 {
	base := s.offset()
	rest, _ := io.ReadAll(s.dec.Buffered())
	var raw json.RawMessage
	var se *json.SyntaxError
	if errors.As(json.Unmarshal(rest, &raw), &se) && se.Offset > 0 {
		return base + se.Offset - 1 // Offset counts the offending byte
	}
	return base
}

// elementStart returns the offset of the first byte that is not whitespace
// in what the decoder holds: after a failed Decode, the failed element.
func (s *arraySource) elementStart() int64 {
	rest, _ := io.ReadAll(s.dec.Buffered())
	return s.offset() + int64(len(rest)-len(bytes.TrimLeft(rest, jsonSpace)))
}

func (s *arraySource) fatal(at int64, msg string) *FatalError {
	if at < 0 {
		at = 0
	}
	return &FatalError{Line: s.lines.lineAt(at), Msg: msg}
}

// readError says that an error comes from reading the input (a truncated
// gzip stream, say), not from its contents; errors.Is still sees the cause.
func readError(err error) error {
	return fmt.Errorf("reading the input: %w", err)
}
