package invoice

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// ColumnMap renames input columns to fields: header (trimmed, any case) →
// field name. It comes from --column FIELD=HEADER.
type ColumnMap map[string]string

// Parse parses one --column FIELD=HEADER value into m.
func (m ColumnMap) Parse(spec string) error {
	field, header, ok := strings.Cut(spec, "=")
	field = strings.ToLower(strings.TrimSpace(field))
	header = strings.ToLower(strings.TrimSpace(header))
	if !ok || field == "" || header == "" {
		return fmt.Errorf("--column %q: want FIELD=HEADER, for example description=Item Name", spec)
	}
	if !isField(field) {
		return fmt.Errorf("--column %q: unknown field %q (fields: %s)", spec, field, strings.Join(Fields, ", "))
	}
	m[header] = field
	return nil
}

// maps says whether some --column names where field is.
func (m ColumnMap) maps(field string) bool {
	for _, f := range m {
		if f == field {
			return true
		}
	}
	return false
}

func isField(name string) bool {
	for _, f := range Fields {
		if f == name {
			return true
		}
	}
	return false
}

// Reject-file columns: added to rejects, ignored when a rejects file is
// imported again (_run and _record, which say where a record came from, are
// read as fields).
const (
	ColumnLine  = "_line"
	ColumnError = "_error"
)

// isRejectColumn says whether a column (or key) is one a rejects file adds,
// and a rejects file of rejects replaces.
func isRejectColumn(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case ColumnLine, ColumnError, FieldRun, FieldRecord:
		return true
	}
	return false
}

// MaxColumns bounds the columns of a CSV header and the fields of a record
// (SPEC §16): each field of a record is kept until its chunk is written,
// and 20,000 empty ones per line took 342 MiB for 1,000 lines.
const MaxColumns = 1000

// fieldNames resolves input column names to fields: index i of the result is
// the field column i holds, or "" for a column that is ignored. A column is
// a field by --column, else by the field's own name, else by a name of it
// in the synonym table (headers.json). It fails, naming the columns, on a
// duplicated header, two columns of one field, or a missing required field
// that --set does not give.
func fieldNames(header []string, columns ColumnMap, set map[string]string) ([]string, error) {
	if len(header) > MaxColumns {
		return nil, &FatalError{Msg: fmt.Sprintf("the header has %d columns, more than %d: no invoice file is that wide", len(header), MaxColumns)}
	}
	out := make([]string, len(header))
	seen := make(map[string]int, len(header)) // normalized header → column
	byField := make(map[string]int, len(Fields))
	via := make([]int, len(header)) // the pass that gave each column its field
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if j, dup := seen[name]; dup && name != "" {
			return nil, &FatalError{Msg: fmt.Sprintf("header %q is duplicated (columns %d and %d)", strings.TrimSpace(h), j+1, i+1)}
		}
		seen[name] = i
	}
	// Mapped columns first, so that --column wins over a column that happens
	// to carry the field's own name, which wins over a synonym.
	for pass := 0; pass < 3; pass++ {
		for i, h := range header {
			name := strings.ToLower(strings.TrimSpace(h))
			field, mapped := columns[name]
			switch {
			case pass == 0 && !mapped:
				continue
			case pass == 1:
				if mapped || !isField(name) {
					continue
				}
				field = name
			case pass == 2:
				var ok bool
				if field, ok = synonyms[headerKey(h)]; mapped || out[i] != "" || !ok || columns.maps(field) {
					continue // --column says where that field is, and nothing else
				}
			}
			if j, taken := byField[field]; taken {
				switch {
				case pass == 2 && via[j] == 2:
					return nil, &FatalError{Msg: fmt.Sprintf("columns %d %q and %d %q could both be %q; say which with --column %s=HEADER",
						j+1, strings.TrimSpace(header[j]), i+1, strings.TrimSpace(h), field, field)}
				case pass >= 1:
					continue // a literal column, or a synonym, shadowed
				}
				return nil, &FatalError{Msg: fmt.Sprintf("field %q is given by both column %d and column %d", field, j+1, i+1)}
			}
			via[i] = pass
			byField[field] = i
			out[i] = field
		}
	}
	var missing []string
	for _, f := range RequiredFields {
		_, ok := byField[f]
		if _, given := set[f]; !ok && !given {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, &FatalError{Msg: fmt.Sprintf("required column %s missing (use --column FIELD=HEADER to map a differently named column, or --set FIELD=VALUE to give every record the same value)", quoteList(missing))}
	}
	return out, nil
}

// headerKey is a header as the synonym table has it: lower case, spaces
// collapsed, underscores as spaces, a trailing colon dropped.
func headerKey(h string) string {
	h = strings.ReplaceAll(strings.ToLower(h), "_", " ")
	return strings.TrimSuffix(strings.Join(strings.Fields(h), " "), ":")
}

//go:embed headers.json
var headersJSON []byte

// synonyms maps a header key to the field it names.
var synonyms = func() map[string]string {
	var table struct {
		Synonyms map[string][]string `json:"synonyms"`
	}
	if err := json.Unmarshal(headersJSON, &table); err != nil {
		panic("invoice/headers.json: " + err.Error())
	}
	m := map[string]string{}
	for field, names := range table.Synonyms {
		if !isField(field) {
			panic("invoice/headers.json: unknown field " + field)
		}
		for _, n := range names {
			m[headerKey(n)] = field
		}
	}
	return m
}()

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0] + " is"
	}
	return strings.Join(q, ", ") + " are"
}
