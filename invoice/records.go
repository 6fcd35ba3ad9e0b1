package invoice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
)

// ParseRecordsPath checks a --records path: member names of nested arrays,
// outermost first, each followed by [] ("invoices[].lines[]"); a leading
// "[]" is a top-level array ("[].lines[]").
func ParseRecordsPath(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	var names []string
	for i, seg := range strings.Split(path, ".") {
		name, ok := strings.CutSuffix(seg, "[]")
		if !ok || strings.ContainsAny(name, "[]") || (name == "" && i > 0) {
			return nil, fmt.Errorf("--records %q: want member names of nested arrays, each with [], e.g. invoices[].lines[]", path)
		}
		names = append(names, name)
	}
	return names, nil
}

// recordsSource yields the objects of the innermost array of a path of
// nested arrays (--records), streaming: one record at a time is held, and
// the members of the objects around it. Each record gets the scalar members
// (strings, numbers, booleans, null) that the objects enclosing it have
// before it, by name, the nearest first; its own members win. The record a
// rejects file keeps is that merged object, so it reads the same on its
// own.
type recordsSource struct {
	dec   *json.Decoder
	lines *lineCounter
	cap   *stringCap // what lines reads
	// maxRecord bounds a record; lines reads that and what the decoder
	// reads ahead past the start of a token or value.
	maxRecord int
	path      []string
	keys      *keyResolver // to tell which field a member gives
	// objects and had count, by level, the objects where the path goes on
	// and those that had its member: none having it is a wrong path.
	objects, had []int
	pull         func() (element, error, bool)
	stop         func()
}

// maxDepth is how deep encoding/json decodes a value.
const maxDepth = 10000

// maxInherited bounds a member a record inherits: every record of the
// object around it gets a copy, and no field holds more.
const maxInherited = 4 << 10

// newRecordsSource reads the document's first token here, so that an empty
// file or a document of the wrong kind is reported before any record, like
// a bad CSV header.
func newRecordsSource(r io.Reader, path []string, keys *keyResolver, maxRecord int) (*recordsSource, error) {
	// A record, or a value around the records, may take at most maxRecord
	// bytes, and what the decoder reads ahead: none is held whole past it.
	// A string longer than that is cut as it is read: its record is
	// rejected, a value around the records dropped.
	sc := &stringCap{r: r, max: maxRecord}
	lc := &lineCounter{r: sc, limit: int64(maxRecord) + 64<<10}
	s := &recordsSource{dec: json.NewDecoder(lc), lines: lc, cap: sc, maxRecord: maxRecord, path: path, keys: keys,
		objects: make([]int, len(path)), had: make([]int, len(path))}
	s.dec.UseNumber()
	if err := s.begin(); err != nil {
		return nil, err
	}
	s.pull, s.stop = iter.Pull2(s.walk)
	return s, nil
}

func (s *recordsSource) next() (element, error) {
	el, err, ok := s.pull()
	if !ok {
		return element{}, io.EOF
	}
	if err != nil {
		s.stop()
	}
	return el, err
}

// walk reads the document, yielding its records, then io.EOF, or the
// error that stops it.
func (s *recordsSource) walk(yield func(element, error) bool) {
	err := s.document(yield)
	for level := range s.path {
		if err == nil && s.objects[level] > 0 && s.had[level] == 0 {
			// A path that names nothing would make the run a success of
			// no records, and the right path then a repeat of it.
			err = &FatalError{Line: s.lines.lineAt(s.lines.read - 1), Msg: fmt.Sprintf("no object of the document has the member %q that --records %s names: check the path", s.path[level], s.pathText())}
		}
	}
	if err == nil {
		s.dec.More()
		if rest, _ := io.ReadAll(s.dec.Buffered()); len(bytes.TrimLeft(rest, jsonSpace)) > 0 || s.dec.More() {
			err = s.fatal("JSON syntax error: unexpected data after the document")
		}
	}
	if err == nil {
		err = s.lines.err
	}
	if err != nil && !errors.Is(err, errStopped) {
		yield(element{}, err)
	}
}

// errStopped ends the walk when the reader of records stopped.
var errStopped = errors.New("stopped")

// begin reads the document's opening { (or [ for a path that starts with
// []).
func (s *recordsSource) begin() error {
	s.dec.More()
	at := s.dec.InputOffset()
	tok, err := s.token()
	switch {
	case s.lines.err != nil:
		return s.lines.err
	case errors.Is(err, io.EOF):
		return &FatalError{Line: 1, Msg: "the file is empty: want a JSON document with the records at --records " + s.pathText()}
	case err != nil:
		return s.syntax(err)
	case s.path[0] == "" && tok != json.Delim('['), s.path[0] != "" && tok != json.Delim('{'):
		want := "an object"
		if s.path[0] == "" {
			want = "an array"
		}
		return &FatalError{Line: s.lines.lineAt(at), Msg: fmt.Sprintf("the document must be %s, as --records %s says", want, s.pathText())}
	}
	return nil
}

func (s *recordsSource) document(yield func(element, error) bool) error {
	if s.path[0] == "" {
		return s.array(0, nil, yield)
	}
	return s.object(0, nil, yield)
}

// object reads the members of an object whose { was read: its scalars are
// inherited by the records below it; its member path[level] is the array
// to descend into.
func (s *recordsSource) object(level int, inherited []member, yield func(element, error) bool) error {
	s.objects[level]++
	var own []member
	var ownFields []int // the field of each of own
	for {
		if more, err := s.more(); err != nil {
			return err
		} else if !more {
			break
		}
		tok, err := s.token()
		if err != nil {
			return s.syntax(err)
		}
		key, _ := tok.(string)
		if key == s.path[level] {
			s.had[level]++
			tok, err := s.token()
			if err != nil {
				return s.syntax(err)
			}
			if tok != json.Delim('[') {
				return s.fatal(fmt.Sprintf("member %q is not an array, as --records %s says", key, s.pathText()))
			}
			// The nearest first: this object's, then its parents'.
			if err := s.array(level, append(own[:len(own):len(own)], inherited...), yield); err != nil {
				return err
			}
			continue
		}
		// A member off the path is read token by token, never whole: an
		// array of other things may be any size. Only a scalar that gives
		// a field is inherited; one too long for a field to hold, or cut
		// as it was read, is kept as too long.
		from := s.dec.InputOffset()
		tok, err = s.token()
		if err != nil {
			return s.syntax(err)
		}
		if _, ok := tok.(json.Delim); ok {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		k, _ := json.Marshal(key)
		f := s.keys.resolve(k).field
		cut := s.cap.droppedIn(from, s.dec.InputOffset()) > 0
		if f < 0 || slices.Contains(ownFields, f) {
			// A field given again: the first is the one a record
			// inherits, and the object holds one per field, however many
			// times a hostile document repeats it.
			continue
		}
		m := member{key: k, long: cut}
		if str, ok := tok.(string); ok && len(str) > maxInherited {
			m.long = true
		}
		if !m.long {
			m.value, _ = json.Marshal(tok)
			m.long = len(m.value) > maxInherited
		}
		own, ownFields = append(own, m), append(ownFields, f)
	}
	_, err := s.token() // }
	return s.syntax(err)
}

// skip reads the rest of an object or array whose opening was read. The
// decoder keeps a word per level open: past maxDepth, the levels of
// encoding/json's own Decode, the file stops (40 MB of [ held 579 MB).
func (s *recordsSource) skip() error {
	for depth := 1; depth > 0; {
		tok, err := s.token()
		if err != nil {
			return s.syntax(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxDepth {
				return s.fatal(fmt.Sprintf("a value around the records is nested deeper than %d levels here: the rest of the file is not read", maxDepth))
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// array reads the elements of an array whose [ was read: the records, at
// the path's last level, else objects to descend into.
func (s *recordsSource) array(level int, inherited []member, yield func(element, error) bool) error {
	last := level == len(s.path)-1
	for {
		if more, err := s.more(); err != nil {
			return err
		} else if !more {
			break
		}
		if !last {
			tok, err := s.token()
			if err != nil {
				return s.syntax(err)
			}
			if tok != json.Delim('{') {
				return s.fatal(fmt.Sprintf("an element of %q is not an object, as --records %s says", s.path[level], s.pathText()))
			}
			if err := s.object(level+1, inherited, yield); err != nil {
				return err
			}
			continue
		}
		var raw json.RawMessage
		if err := s.decode(&raw); err != nil {
			return s.syntax(err)
		}
		end := s.dec.InputOffset()
		begin := end - int64(len(raw))
		el := element{line: s.lines.lineAt(begin), raw: raw}
		if size := int64(len(raw)) + s.cap.droppedIn(begin, end); size > int64(s.maxRecord) {
			// A string in it was cut, or it was read ahead whole.
			el.raw = bytes.ToValidUTF8(raw[:min(len(raw), keptOfLongRecord)], nil)
			el.bad = fmt.Sprintf("a record of --records %s is %d bytes, more than --max-record-bytes %d; it is kept here cut to its first %d bytes",
				s.pathText(), size, s.maxRecord, len(el.raw))
			el.rule = fmt.Sprintf("record longer than --max-record-bytes %d", s.maxRecord)
		} else if raw[0] == '{' {
			var long []byte
			if el.raw, long = s.withInherited(raw, inherited); long != nil {
				el.bad = fmt.Sprintf("a record of --records %s would inherit %s from an object around it, whose value there is longer than a field holds",
					s.pathText(), long)
				el.rule = "inherits a value longer than a field holds"
			}
		} else {
			el.bad = fmt.Sprintf("a record of --records %s is %s, not a JSON object", s.pathText(), kindOf(raw))
		}
		if !yield(el, nil) {
			return errStopped
		}
	}
	_, err := s.token() // ]
	return s.syntax(err)
}

// withInherited adds to an object the inherited members of the fields it
// does not give itself, by whatever name, the nearest first. long is the
// key of one it would inherit that is too long to keep (member.long), if
// any; obj is then returned as it is.
func (s *recordsSource) withInherited(obj []byte, inherited []member) (merged, long []byte) {
	if len(inherited) == 0 {
		return obj, nil
	}
	members, _ := objectMembers(obj, nil)
	have := map[int]bool{}
	for _, m := range members {
		if f := s.keys.resolve(m.key).field; f >= 0 {
			have[f] = true
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, m := range inherited {
		if f := s.keys.resolve(m.key).field; !have[f] {
			if m.long {
				return obj, m.key
			}
			have[f] = true
			b.Write(m.key)
			b.WriteByte(':')
			b.Write(m.value)
			b.WriteByte(',')
		}
	}
	inner := bytes.TrimSpace(obj[1 : len(obj)-1])
	if len(inner) == 0 {
		b.Truncate(b.Len() - 1) // the last comma
	}
	b.Write(inner)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (s *recordsSource) pathText() string {
	var b strings.Builder
	for i, n := range s.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(n + "[]")
	}
	return b.String()
}

// token reads the next token, and decode the next value: with what the
// decoder reads ahead, no more than --max-record-bytes is read for either.
// more says whether the object or array being read goes on; whitespace
// longer than the bound is an error, not its end.
func (s *recordsSource) more() (bool, error) {
	s.lines.mark = s.lines.read
	if s.dec.More() {
		return true, nil
	}
	if s.lines.read-s.lines.mark >= s.lines.limit {
		return false, s.fatal(fmt.Sprintf("more than --max-record-bytes %d bytes of whitespace here: the rest of the file is not read", s.maxRecord))
	}
	return false, nil
}

func (s *recordsSource) token() (json.Token, error) {
	s.lines.lineAt(s.dec.InputOffset()) // newlines passed are counted, not kept
	s.lines.mark = s.lines.read
	return s.dec.Token()
}

func (s *recordsSource) decode(v any) error {
	s.lines.mark = s.lines.read
	return s.dec.Decode(v)
}

// syntax turns an error of the decoder into a *FatalError naming the line
// where the input stops being JSON; nil stays nil.
func (s *recordsSource) syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errRecordTooLong):
		return s.tooLong(s.valueStart())
	case s.lines.err != nil:
		return s.lines.err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FatalError{Line: s.lines.lineAt(s.lines.read - 1), Msg: "JSON syntax error: unexpected end of input"}
	case errors.As(err, &se):
		return s.fatal("JSON syntax error: " + se.Error())
	}
	return err
}

// valueStart is where the value the decoder stopped in starts: what it
// holds, less the space and separators before the value.
func (s *recordsSource) valueStart() int64 {
	held, _ := io.ReadAll(s.dec.Buffered())
	return s.dec.InputOffset() + int64(len(held)-len(bytes.TrimLeft(held, jsonSpace+",:")))
}

func (s *recordsSource) tooLong(at int64) *FatalError {
	return &FatalError{Line: s.lines.lineAt(at), Msg: fmt.Sprintf("a record, or a value around the records, is longer than "+
		"--max-record-bytes %d here: the rest of the file is not read", s.maxRecord)}
}

func (s *recordsSource) fatal(msg string) *FatalError {
	return &FatalError{Line: s.lines.lineAt(s.dec.InputOffset()), Msg: msg}
}
