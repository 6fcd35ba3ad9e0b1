package invoice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
