package invoice

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPlainLinesReadAsEncodingCSV reads random files, whose lines mix plain
// ones with every case plainLine leaves to encoding/csv (quotes, quoted
// line ends, blank lines, inch marks, lone CRs, CRLF, lines past
// --max-record-bytes or MaxColumns, a last line without its end, bytes
// that are not UTF-8, other field counts), with plainLine and without it:
// each record must come out the same, line numbers, raw fields, values,
// errors and all.
func TestPlainLinesReadAsEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 15))
	for file := range 400 {
		comma := []byte{',', ';', '\t'}[file%3]
		opts := Options{Format: CSV, Delimiter: rune(comma), SkipNonLines: file%4 == 1}
		if file%5 == 2 {
			opts.MaxRecordBytes = 90
		}
		in := randomCSV(rng, comma, file%7 == 3)
		plainLines = true
		got, gotPlain := readEach(t, in, opts)
		plainLines = false
		want, _ := readEach(t, in, opts)
		plainLines = true
		if gotPlain == 0 {
			t.Fatalf("file %d: no line was read as a plain line:\n%s", file, in)
		}
		if len(got) != len(want) {
			t.Fatalf("file %d: %d records, encoding/csv reads %d\n%s", file, len(got), len(want), in)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("file %d, record %d:\nplain       %s\nencoding/csv %s\nfile:\n%q", file, i, got[i], want[i], in)
			}
		}
	}
}

// readEach is each record of in, and how it ended, as text; and how many
// records plainLine read.
func readEach(t *testing.T, in []byte, opts Options) ([]string, int) {
	t.Helper()
	d, err := newCSVDecoder(bytes.NewReader(in), opts)
	if err != nil {
		return []string{"fatal: " + err.Error()}, 1
	}
	var out []string
	plain := 0
	for {
		before := d.r.InputOffset()
		rec, err := d.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				out = append(out, "end: "+err.Error())
			}
			return out, plain
		}
		if d.r.InputOffset() == before {
			plain++
		}
		out = append(out, fmt.Sprintf("line %d raw %q err %v origin %+v valid %+v skipped %v",
			rec.Line, rec.Raw.FieldsOf(opts.Delimiter), rec.Err, rec.Origin, rec.Valid, rec.Skipped))
	}
}

// randomCSV is a header and 60 lines of any kind, separated by comma.
func randomCSV(rng *rand.Rand, comma byte, sep bool) []byte {
	var b bytes.Buffer
	if sep {
		fmt.Fprintf(&b, "sep=%c\n", comma)
	}
	b.WriteString(strings.ReplaceAll(header, ",", string(comma)))
	c := string(comma)
	fields := func(desc string) string {
		return strings.Join([]string{"INV-" + fmt.Sprint(rng.IntN(5)), "2025-01-0" + fmt.Sprint(1+rng.IntN(9)), "Sysco", "SK" + fmt.Sprint(rng.IntN(99)),
			desc, fmt.Sprint(1 + rng.IntN(40)), "cs", "12.5"}, c)
	}
	for range 60 {
		eol := []string{"\n", "\r\n"}[rng.IntN(2)]
		switch rng.IntN(16) {
		case 0:
			b.WriteString(fields(`"Cheese`+c+` shredded"`) + eol)
		case 1:
			b.WriteString(fields("\"two\r\nlines\"") + eol)
		case 2:
			b.WriteString(fields("\"two\nlines\"") + eol)
		case 3:
			b.WriteString(eol)
		case 4:
			b.WriteString(fields(`Pan 9" round`) + eol)
		case 5:
			b.WriteString(fields("lone\rCR") + []string{"", "\r"}[rng.IntN(2)] + eol)
		case 6:
			b.WriteString(fields(strings.Repeat("long ", 25)) + eol)
		case 7:
			b.WriteString(fields("x"+strings.Repeat(c, MaxColumns)) + eol)
		case 8:
			b.WriteString(fields("caf\xe9 \xff") + eol)
		case 9:
			b.WriteString(strings.Join([]string{"INV-1", "2025-01-01", "short"}, c) + eol)
		case 10:
			b.WriteString(fields("extra"+c+"field") + eol)
		case 11:
			b.WriteString(fields(`"unterminated`) + eol)
		case 12:
			b.WriteString(fields("Total") + eol)
		case 13:
			b.WriteString(" " + fields(" spaced ") + " " + eol)
		default:
			b.WriteString(fields("Stone Mill Green Potatoes 6/#10") + eol)
		}
	}
	if rng.IntN(2) == 0 {
		b.WriteString(fields("no line end"))
	}
	return b.Bytes()
}
