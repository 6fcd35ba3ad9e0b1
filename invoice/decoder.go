package invoice

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
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
	// XLSX is a workbook's sheet, read as CSV records: its Decoder's
	// Format is CSV, as its rejects are written.
	XLSX Format = "xlsx"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSON, NDJSON, XLSX:
		return f, nil
	case "jsonl":
		return NDJSON, nil
	case "tsv":
		return CSV, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv, json, ndjson or xlsx)", s)
}

// FormatOf guesses the format from a file name: .csv, .tsv, .json, .ndjson
// or .jsonl, each optionally followed by .gz, or .xlsx. ok is false when the
// name says nothing.
func FormatOf(name string) (f Format, ok bool) {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".gz")
	switch filepath.Ext(base) {
	case ".csv", ".tsv":
		return CSV, true
	case ".json":
		return JSON, true
	case ".ndjson", ".jsonl":
		return NDJSON, true
	case ".xlsx":
		// Also under .gz, which the decoder refuses saying why.
		return XLSX, true
	}
	return "", false
}

// DelimiterOf is the CSV delimiter a file's name says: a tab for .tsv,
// else 0 (a comma, unless --delimiter says otherwise).
func DelimiterOf(name string) rune {
	if filepath.Ext(strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".gz")) == ".tsv" {
		return '\t'
	}
	return 0
}

// RejectsPath is where the rejects of input go by default: beside it, its
// name less .gz and the format extension, plus .rejects.csv (CSV or XLSX
// input) or .rejects.ndjson (JSON input). in/may.2026.csv.gz → in/may.2026.rejects.csv.
func RejectsPath(input string, f Format) string {
	ext := ".rejects.ndjson"
	switch {
	case f == CSV && DelimiterOf(input) == '\t':
		ext = ".rejects.tsv"
	case f == CSV, f == XLSX:
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
	// AllowAccounts are the other accounts a record may name, or any with
	// AnyAccount; a record naming another is rejected (SPEC §16).
	AllowAccounts []string
	AnyAccount    bool
	// Set gives fields a constant (--set FIELD=VALUE): every record has
	// it, whether or not the input has the field.
	Set map[string]string
	// SkipLines is how many lines above the header to skip (CSV).
	SkipLines int
	// Values says how dates and numbers are written.
	Values ValueFormat
	// Records is the path of nested arrays whose objects are the records
	// of a JSON document (ParseRecordsPath); nil: a top-level array.
	// NDJSON lines are records already, and ignore it.
	Records []string
	// SkipNonLines marks records with no quantity and no invoice number
	// or date (totals, notes, blank rows) Record.Skipped, not rejected.
	SkipNonLines bool
	// Encoding is the input's text encoding (Encodings; "" is UTF-8); a
	// byte order mark overrides it.
	Encoding string
	// Sheet names the sheet of an XLSX input to read (--sheet), matched
	// ignoring case; "" reads the first.
	Sheet string
	// MaxRecordBytes bounds an NDJSON line: a longer one is rejected,
	// cut (--max-record-bytes); 0 is DefaultMaxRecordBytes.
	MaxRecordBytes int
}

// DefaultMaxRecordBytes is the default of Options.MaxRecordBytes.
const DefaultMaxRecordBytes = 1 << 20

// MaxMaxRecordBytes is the most --max-record-bytes may be. A record is
// held whole, and copied as it is read, checked and kept for the rejects:
// 20 CSV records of 2 MiB in a row peak at 88 to 118 MiB with 8, 1 or 2
// writers; with 2, of 4 MiB at 187 MiB, close to the 200 MiB a run may
// take, of 8 MB at 295 MiB.
const MaxMaxRecordBytes = 2 << 20

func (o *Options) maxRecordBytes() int {
	if o.MaxRecordBytes > 0 {
		return o.MaxRecordBytes
	}
	return DefaultMaxRecordBytes
}

// Decoder yields the records of one input, in order.
type Decoder interface {
	// Next returns the next record, valid or rejected (Record.Err). It
	// returns io.EOF after the last record, and a *FatalError or an I/O
	// error when the input cannot be read further. The record may be
	// reused by the next call: a caller that keeps it keeps a copy.
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
	if opts.Format == XLSX {
		// A workbook is a zip archive whose XML says its own encoding:
		// neither gzip nor --encoding applies. Its rejects, CSV in UTF-8,
		// still start with a byte order mark when --encoding names
		// another, so that they read back right with the same flags.
		d, err := newXLSXDecoder(r, opts)
		if err != nil {
			return nil, err
		}
		enc := opts.Encoding
		if enc == "" {
			enc = UTF8
		}
		return &numbered{Decoder: d, enc: enc}, nil
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if damaged(err) {
				return nil, &FatalError{Msg: fmt.Sprintf("gzip: %v", err)}
			}
			return nil, fmt.Errorf("gzip: %w", err) // the file's, not its bytes'
		}
		zr.Multistream(false)
		br = bufio.NewReaderSize(&gzipReader{zr: zr, in: br}, 64<<10)
	}
	br = decodeText(br, opts.Encoding)
	// The layout says the --encoding, not what a byte order mark made of
	// it: the rejects start with UTF-8's whenever --encoding names another,
	// so that they read back right with the same flags.
	enc := opts.Encoding
	if enc == "" {
		enc = UTF8
	}
	if opts.Columns == nil {
		opts.Columns = ColumnMap{}
	}
	var d Decoder
	var err error
	switch opts.Format {
	case CSV:
		d, err = newCSVDecoder(crLineEnds(br), opts)
	case JSON, NDJSON:
		d, err = newJSONDecoder(br, opts)
	default:
		return nil, fmt.Errorf("unknown format %q", opts.Format)
	}
	if err != nil {
		return nil, err
	}
	return &numbered{Decoder: d, enc: enc}, nil
}

// numbered gives every record its Seq, whatever the format.
type numbered struct {
	Decoder
	seq int64
	enc string // the --encoding it was read with
}

// encoding is the --encoding the input was read with.
func (n *numbered) encoding() string { return n.enc }

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

// gzipReader reads the members of a gzip stream one after another, and
// names gzip as the culprit of a damaged one. A stream cut short (an
// upload not finished) or corrupt is the bytes' fault, a *FatalError:
// reading them again gives the same; an error of the file below is not.
// Zero bytes after the last member (a block device's or a tape's padding)
// end it, as gzip(1) reads them.
type gzipReader struct {
	zr *gzip.Reader
	in *bufio.Reader // what zr reads, after its last member
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	for err == io.EOF {
		if err = g.next(); err != nil || n > 0 {
			break
		}
		n, err = g.zr.Read(p) // the next member, which may be empty too
	}
	switch {
	case err == nil || err == io.EOF:
	case damaged(err):
		err = &FatalError{Msg: fmt.Sprintf("gzip: %s: the compressed file is cut short or damaged", strings.TrimPrefix(err.Error(), "gzip: "))}
	default:
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

// next starts the member after the one that ended: nil, or io.EOF when
// only zero bytes, or none, follow.
func (g *gzipReader) next() error {
	b, err := g.in.Peek(2)
	switch {
	case len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b:
		if err := g.zr.Reset(g.in); err != nil {
			return err
		}
		g.zr.Multistream(false)
		return nil
	case len(b) == 0 && err == io.EOF:
		return io.EOF
	case len(b) == 0:
		return err
	}
	for {
		c, err := g.in.ReadByte()
		switch {
		case err != nil:
			return err // io.EOF: zeros to the end
		case c != 0:
			return errTrailing
		}
	}
}

// errTrailing is what follows the last member of a gzip stream, when it
// is neither another member nor zero padding.
var errTrailing = errors.New("data after the end of the compressed stream")

// damaged says whether a gzip error is its bytes': cut short or corrupt.
func damaged(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.As(err, new(flate.CorruptInputError)) || errors.Is(err, errTrailing)
}
