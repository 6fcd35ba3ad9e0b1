package invoice

import (
	"bytes"
	"encoding/json"
	"strconv"
)

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
