package invoice

import (
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

// fieldNames resolves input column names to fields: index i of the result is
// the field column i holds, or "" for a column that is ignored. It fails,
// naming the column, on a duplicated header or a missing required field.
func fieldNames(header []string, columns ColumnMap) ([]string, error) {
	out := make([]string, len(header))
	seen := make(map[string]int, len(header)) // normalized header → column
	byField := make(map[string]int, len(Fields))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if j, dup := seen[name]; dup && name != "" {
			return nil, &FatalError{Msg: fmt.Sprintf("header %q is duplicated (columns %d and %d)", strings.TrimSpace(h), j+1, i+1)}
		}
		seen[name] = i
	}
	// Mapped columns first, so that --column wins over a column that happens
	// to carry the field's own name.
	for pass := 0; pass < 2; pass++ {
		for i, h := range header {
			name := strings.ToLower(strings.TrimSpace(h))
			field, mapped := columns[name]
			if pass == 1 {
				if mapped || !isField(name) {
					continue
				}
				field = name
			} else if !mapped {
				continue
			}
			if j, taken := byField[field]; taken {
				if pass == 1 {
					continue // a literal column shadowed by --column
				}
				return nil, &FatalError{Msg: fmt.Sprintf("field %q is given by both column %d and column %d", field, j+1, i+1)}
			}
			byField[field] = i
			out[i] = field
		}
	}
	var missing []string
	for _, f := range RequiredFields {
		if _, ok := byField[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, &FatalError{Msg: fmt.Sprintf("required column %s missing (use --column FIELD=HEADER to map a differently named column)", quoteList(missing))}
	}
	return out, nil
}

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
