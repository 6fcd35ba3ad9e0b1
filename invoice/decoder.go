package invoice

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is an input format.
type Format string

// The formats batchimport reads.
const (
	CSV    Format = "csv"
	JSON   Format = "json"
	NDJSON Format = "ndjson"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSON, NDJSON:
		return f, nil
	case "jsonl":
		return NDJSON, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv, json or ndjson)", s)
}

// FormatOf guesses the format from a file name: .csv, .json, .ndjson or
// .jsonl, each optionally followed by .gz. ok is false when the name says
// nothing.
func FormatOf(name string) (f Format, ok bool) {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".gz")
	switch filepath.Ext(base) {
	case ".csv":
		return CSV, true
	case ".json":
		return JSON, true
	case ".ndjson", ".jsonl":
		return NDJSON, true
	}
	return "", false
}

// RejectsPath is where the rejects of input go by default: beside it, its
// name less .gz and the format extension, plus .rejects.csv (CSV input) or
// .rejects.ndjson (JSON input). in/may.2026.csv.gz → in/may.2026.rejects.csv.
func RejectsPath(input string, f Format) string {
	ext := ".rejects.ndjson"
	if f == CSV {
		ext = ".rejects.csv"
	}
	if input == "-" || input == "" {
		return "stdin" + ext
	}
	stem := strings.TrimSuffix(input, ".gz")
	stem = strings.TrimSuffix(stem, ".GZ")
	if e := filepath.Ext(stem); e != "" {
		if _, ok := FormatOf(stem); ok {
			stem = strings.TrimSuffix(stem, e)
		}
	}
	return stem + ext
}

// Options control decoding.
type Options struct {
	Format    Format
	Delimiter rune      // CSV only; ',' when zero
	Columns   ColumnMap // --column renames
	Account   string    // account of records that have none
}

// Decoder yields the records of one input, in order.
type Decoder interface {
	// Next returns the next record, valid or rejected (Record.Err). It
	// returns io.EOF after the last record, and a *FatalError or an I/O
	// error when the input cannot be read further.
	Next() (*Record, error)
	// Header is the input's header as read (CSV), or nil.
	Header() []string
	// Format is the decoder's input format.
	Format() Format
	// Close stops decoding and releases what the decoder holds; it does not
	// close the underlying reader.
	Close() error
}

// NewDecoder starts decoding r in opts.Format, decompressing gzip on the fly
// when r starts with gzip's magic bytes. A header that cannot be used (a
// missing required column, a duplicated name) is reported here, before any
// record is read.
func NewDecoder(r io.Reader, opts Options) (Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FatalError{Msg: fmt.Sprintf("gzip: %v", err)}
		}
		br = bufio.NewReaderSize(gzipReader{zr}, 64<<10)
	}
	// A UTF-8 byte order mark is not part of the data.
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
	}
	if opts.Columns == nil {
		opts.Columns = ColumnMap{}
	}
	var d Decoder
	var err error
	switch opts.Format {
	case CSV:
		d, err = newCSVDecoder(br, opts)
	case JSON, NDJSON:
		d, err = newJSONDecoder(br, opts)
	default:
		return nil, fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		return nil, err
	}
	return &numbered{Decoder: d}, nil
}

// numbered gives every record its Seq, whatever the format.
type numbered struct {
	Decoder
	seq int64
}

func (n *numbered) Next() (*Record, error) {
	rec, err := n.Decoder.Next()
	if rec != nil {
		n.seq++
		rec.Seq = n.seq
	}
	return rec, err
}

// delimiter is the CSV delimiter of the wrapped decoder, if it has one.
func (n *numbered) delimiter() rune {
	if d, ok := n.Decoder.(interface{ delimiter() rune }); ok {
		return d.delimiter()
	}
	return ','
}

// gzipReader names gzip as the culprit of a damaged compressed stream.
type gzipReader struct{ r io.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}
