package invoice

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// plainLines lets plainLine read what it can; off, every record goes
// through encoding/csv (a test compares the two).
var plainLines = true

// plainLine reads the next record itself, without encoding/csv, when it is
// a plain line: held whole in br, not blank, without a quote, within
// --max-record-bytes, of the header's field count. Such a line is its
// fields, split at the delimiter, as encoding/csv reads them (a CR inside
// is text to both); most lines of a supplier's file are, and encoding/csv
// took a third of the decoder's time on them. Anything else is left to
// encoding/csv, which then counts lines and bytes from where it is, so
// the line read here moves lineBase and offBase on.
func (d *csvDecoder) plainLine() (csvMeta, bool) {
	if !plainLines || d.comma >= utf8.RuneSelf {
		return csvMeta{}, false
	}
	b, _ := d.br.Peek(d.br.Buffered())
	end := bytes.IndexByte(b, '\n')
	if end <= 0 {
		return csvMeta{}, false
	}
	line := b[:end]
	if line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) == 0 || len(line) > d.opts.maxRecordBytes() || bytes.IndexByte(line, '"') >= 0 {
		return csvMeta{}, false
	}
	comma := byte(d.comma)
	if bytes.Count(line, []byte{comma})+1 != len(d.header) {
		return csvMeta{}, false // a record of another field count: rare
	}
	text := string(line)
	_, _ = d.br.Discard(end + 1) // held: cannot fail
	d.offBase += int64(end + 1)
	d.lineBase++
	d.lastLine++
	d.tap.discard(d.offset())
	return csvMeta{line: d.lastLine, text: text}, true
}

// lineValues are the values of a plain line of the header's field count,
// as values reads them from its fields.
func (d *csvDecoder) lineValues(text string) Values {
	var v Values
	comma := byte(d.comma)
	for _, field := range d.fields {
		value := text
		if j := strings.IndexByte(text, comma); j >= 0 {
			value, text = text[:j], text[j+1:]
		}
		if field != "" {
			*v.field(field) = value
		}
	}
	return v
}
