package invoice

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Bounds of an .xlsx input, so that reading one stays within 200 MiB
// whatever it holds (the worst workbook within them measured 176 MB peak
// RSS). excelize reads a workbook's parts into memory, but sheets and the
// shared strings over xlsxMaxPart, which it unpacks to temporary files;
// its iterator reads a row at a time (memory does not grow with the rows),
// but a row, a cell and an XML token whole, and a shared string whole
// each time a cell shows it; and it decodes the workbook, the
// relationships, styles, theme and calculation chain whole, at some 400
// bytes an element. So spool copies for excelize only the parts it needs
// (the workbook, the relationships, the sheets and the shared strings),
// checking each: the sizes the zip declares first (archive/zip fails a
// part that unpacks to more than it declares: a zip bomb is refused
// before it is unpacked), then its XML as it unpacks.
const (
	xlsxMaxFile     = 256 << 20 // the .xlsx as delivered (on disk)
	xlsxMaxParts    = 10_000    // zip entries; the zip's directory is read only so far
	xlsxMaxUnpacked = 1 << 30   // the parts read, unpacked, mostly to disk
	xlsxMaxPart     = 256 << 10 // excelize's UnzipXMLSizeLimit
	// The parts unpacked into memory, together; each that is kept whole
	// however large (no sheet named sheet*.xml, nor the shared strings);
	// the elements of each that excelize decodes whole (the workbook and
	// the relationships).
	xlsxMaxInMemory = 32 << 20
	xlsxMaxWhole    = 8 << 20
	xlsxMaxElements = 20_000
	xlsxMaxDepth    = 100 // elements open at once (Go's decoder keeps each)
	// A cell, a shared string and any other XML token, as XML; a row, and
	// its shared-string cells times the largest shared string (excelize
	// copies a shared string for each cell that shows it); the shared
	// strings (excelize indexes them in memory, some 100 bytes each).
	xlsxMaxCell    = 1 << 20
	xlsxMaxRow     = 4 << 20
	xlsxMaxStrings = 1_000_000
	// A workbook is copied into a directory of this prefix, which Close
	// removes. A process killed meanwhile leaves it behind: opening a
	// workbook removes the ones of a day or more (best effort; a run
	// lasting that long has by then opened all it reads, which on Unix
	// stays readable).
	xlsxTempPrefix = "batchimport-xlsx-"
	xlsxStaleAfter = 24 * time.Hour
)

func tooBig(what string) error { return &FatalError{Msg: what + ", the limit of an .xlsx input"} }

// removeStaleTemp removes the temporary directories killed processes left.
func removeStaleTemp() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), xlsxTempPrefix+"*"))
	for _, dir := range dirs {
		if fi, err := os.Lstat(dir); err == nil && fi.IsDir() && time.Since(fi.ModTime()) > xlsxStaleAfter {
			_ = os.RemoveAll(dir)
		}
	}
}

// spool copies the input to a file, checking it is an intact zip in
// bounds, and returns a copy of it holding only the parts excelize needs.
func (d *xlsxDecoder) spool(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte("PK")) {
		return "", &FatalError{Msg: "not an .xlsx workbook (a zip archive): decompress a gzip-compressed one first; save a password-protected one or an .xls as .xlsx"}
	}
	in, err := os.CreateTemp(d.dir, "*.zip")
	if err != nil {
		return "", err
	}
	defer func() { in.Close(); os.Remove(in.Name()) }()
	n, err := io.Copy(in, io.LimitReader(br, xlsxMaxFile+1))
	if err != nil {
		return "", err
	}
	if n > xlsxMaxFile {
		return "", tooBig(fmt.Sprintf("the .xlsx is over %d MiB", xlsxMaxFile>>20))
	}
	// archive/zip reads the whole directory, whatever its end record says.
	dir := &directoryReader{r: in, left: xlsxMaxParts * 400}
	zr, err := zip.NewReader(dir, n)
	switch {
	case errors.Is(err, errDirectory) || err == nil && len(zr.File) > xlsxMaxParts:
		return "", tooBig(fmt.Sprintf("the .xlsx has more than %d parts", xlsxMaxParts))
	case err != nil:
		return "", &FatalError{Msg: fmt.Sprintf("not a readable .xlsx workbook: %v", err)}
	}
	dir.left = -1
	out, err := os.CreateTemp(d.dir, "*.xlsx")
	if err != nil {
		return "", err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	var total, inMemory uint64
	tally := &xlsxTally{}
	for _, p := range zr.File {
		name, size := strings.ToLower(strings.ReplaceAll(p.Name, `\`, "/")), min(p.UncompressedSize64, xlsxMaxUnpacked+1)
		if !xlsxNeeded(name) {
			continue
		}
		// excelize unpacks these to disk when over xlsxMaxPart, and keeps
		// others whole in memory.
		streamed := strings.HasPrefix(name, "xl/worksheets/sheet") || name == "xl/sharedstrings.xml"
		total += size
		if !streamed || size <= xlsxMaxPart {
			inMemory += size
		}
		switch {
		case total > xlsxMaxUnpacked:
			return "", tooBig(fmt.Sprintf("the .xlsx unpacks to more than %d MiB", xlsxMaxUnpacked>>20))
		case !streamed && size > xlsxMaxWhole:
			return "", tooBig(fmt.Sprintf("%s unpacks to more than %d MiB", p.Name, xlsxMaxWhole>>20))
		case inMemory > xlsxMaxInMemory:
			return "", tooBig(fmt.Sprintf("its parts other than large sheets unpack to more than %d MiB (at %s)", xlsxMaxInMemory>>20, p.Name))
		}
		// excelize ignores a part that fails to unpack, keeping what came
		// before the damage: a damaged sheet would lose rows without a word.
		decoded := !strings.HasPrefix(name, "xl/worksheets/") && name != "xl/sharedstrings.xml" // whole
		scan := &xmlScan{part: p.Name, tally: tally, decoded: decoded, cell: -1, row: -1, si: -1}
		rc, err := p.Open()
		if err == nil {
			_, err = io.Copy(scan, rc) // checks the part's checksum
			rc.Close()
		}
		var fe *FatalError
		switch {
		case errors.As(err, &fe):
			return "", err
		case err != nil:
			return "", &FatalError{Msg: fmt.Sprintf("the .xlsx is damaged: %s: %v", p.Name, err)}
		}
		if err := zw.Copy(p); err != nil {
			return "", err
		}
	}
	if tally.maxShared > 0 && int64(tally.maxShared)*tally.maxString > xlsxMaxRow {
		return "", tooBig(fmt.Sprintf("%s has a row of %d shared-string cells and a shared string is %d KiB: the row reads as more than %d MiB",
			tally.sharedPart, tally.maxShared, tally.maxString>>10, xlsxMaxRow>>20))
	}
	return out.Name(), zw.Close()
}

// xlsxNeeded says whether excelize needs a part (its name in lower case)
// to read a sheet's values: the package's relationships, the parts of xl/
// (the workbook, the shared strings) but the styles and the calculation
// chain, which raw values do not use, the workbook's relationships and
// the worksheets. Others (themes, drawings, media, pivot caches) excelize
// would keep in memory or decode for nothing.
func xlsxNeeded(name string) bool {
	dir, base := path.Split(name)
	switch dir {
	case "_rels/", "xl/_rels/":
		return strings.HasSuffix(base, ".rels")
	case "xl/":
		return strings.HasSuffix(base, ".xml") && base != "styles.xml" && base != "calcchain.xml"
	case "xl/worksheets/":
		return strings.HasSuffix(base, ".xml")
	}
	return false
}

// directoryReader is the spooled .xlsx as zip.NewReader reads its
// directory: it fails once it has read left bytes (left < 0: no limit).
type directoryReader struct {
	r    io.ReaderAt
	left int64
}

var errDirectory = errors.New("the zip directory is over its limit")

func (d *directoryReader) ReadAt(p []byte, off int64) (int, error) {
	if d.left >= 0 {
		if d.left -= int64(len(p)); d.left < 0 {
			return 0, errDirectory
		}
	}
	return d.r.ReadAt(p, off)
}

// xlsxTally is what the parts of a workbook say together.
type xlsxTally struct {
	strings    int   // shared strings
	maxString  int64 // bytes of the largest, as XML
	maxShared  int   // shared-string cells in a row, at most
	sharedPart string
}

// xmlScan checks a part's XML as it unpacks (an io.Writer), well enough to
// bound what excelize reads of it at a time: each token (markup, text, a
// comment or CDATA section), cell, row and shared string. It is no XML
// parser: what it takes for a bound is at least as large as what Go's
// decoder reads as one, and a DOCTYPE, which no .xlsx has, is refused.
type xmlScan struct {
	part     string
	tally    *xlsxTally
	decoded  bool  // excelize decodes it whole: its elements are counted
	pos      int64 // offset of the next byte
	tokStart int64 // offset of the token being read
	inMarkup bool
	kind     byte   // of the markup: 0 not yet known, '<' an element, '!' a comment, '[' CDATA, '?' a processing instruction
	quote    byte   // in an element's tag, the quote of the attribute value being read
	tag      []byte // the markup being read
	elements int
	depth    int // of the elements open
	// Offsets where the open cell, row and shared string started; -1 when
	// none is open.
	cell, row, si   int64
	cellRef, rowRef []byte
	shared          int // shared-string cells of the open row
}

func (s *xmlScan) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if !s.inMarkup {
			i := bytes.IndexByte(p, '<')
			if i < 0 {
				i = len(p)
			}
			s.pos += int64(i)
			p = p[i:]
			if err := s.check(); err != nil || len(p) == 0 {
				return n, err
			}
			s.inMarkup, s.kind, s.quote, s.tokStart, s.tag = true, 0, 0, s.pos, s.tag[:0]
		}
		i := s.markup(p)
		s.pos += int64(i)
		p = p[i:]
		if err := s.check(); err != nil {
			return n, err
		}
		if !s.inMarkup {
			if err := s.element(); err != nil {
				return n, err
			}
			s.tokStart = s.pos
		}
	}
	return n, nil
}

// markup takes the bytes of p in the markup being read into s.tag, and
// returns how many; s.inMarkup is false when they end it.
func (s *xmlScan) markup(p []byte) int {
	i := 0
	for ; s.kind == 0 && i < len(p); i++ {
		s.tag = append(s.tag, p[i])
		t := s.tag
		switch {
		case len(t) < 2:
		case t[1] == '?':
			s.kind = '?'
		case t[1] != '!':
			s.kind = '<'
		case string(t) == "<!--":
			s.kind = '!'
		case string(t) == "<![CDATA[":
			s.kind = '['
		case !bytes.HasPrefix([]byte("<!--"), t) && !bytes.HasPrefix([]byte("<![CDATA["), t):
			s.kind = 'D' // a DOCTYPE or another declaration
			s.inMarkup = false
			return i + 1
		}
	}
	start := i
	for s.inMarkup && i < len(p) {
		if s.kind != '<' {
			j := bytes.IndexByte(p[i:], '>')
			if j < 0 {
				i = len(p)
				break
			}
			i += j + 1
			s.tag = append(s.tag, p[start:i]...)
			start = i
			s.inMarkup = !markupEnded(s.tag, s.kind)
			continue
		}
		c := p[i]
		i++
		switch {
		case s.quote != 0:
			if c == s.quote {
				s.quote = 0
			}
		case c == '"' || c == '\'':
			s.quote = c
		case c == '>':
			s.inMarkup = false
		}
	}
	s.tag = append(s.tag, p[start:i]...)
	return i
}

// markupEnded says whether a comment, CDATA section or processing
// instruction, t, is whole.
func markupEnded(t []byte, kind byte) bool {
	switch kind {
	case '!':
		return len(t) >= len("<!---->") && bytes.HasSuffix(t, []byte("-->"))
	case '[':
		return len(t) >= len("<![CDATA[]]>") && bytes.HasSuffix(t, []byte("]]>"))
	}
	return len(t) >= len("<??>") && bytes.HasSuffix(t, []byte("?>"))
}

// check bounds the token being read and the open cell, row and shared
// string, at s.pos.
func (s *xmlScan) check() error {
	at := func(ref []byte, what string) string {
		if len(ref) > 0 {
			return fmt.Sprintf("%s: %s %s", s.part, what, ref)
		}
		return fmt.Sprintf("%s: a %s", s.part, what)
	}
	switch {
	case s.cell >= 0 && s.pos-s.cell > xlsxMaxCell:
		return tooBig(fmt.Sprintf("%s is over %d MiB", at(s.cellRef, "cell"), xlsxMaxCell>>20))
	case s.si >= 0 && s.pos-s.si > xlsxMaxCell:
		return tooBig(fmt.Sprintf("%s: shared string %d is over %d MiB", s.part, s.tally.strings, xlsxMaxCell>>20))
	case s.row >= 0 && s.pos-s.row > xlsxMaxRow:
		return tooBig(fmt.Sprintf("%s is over %d MiB", at(s.rowRef, "row"), xlsxMaxRow>>20))
	case s.pos-s.tokStart > xlsxMaxCell:
		return tooBig(fmt.Sprintf("%s: an XML token at byte %d is over %d MiB", s.part, s.tokStart, xlsxMaxCell>>20))
	}
	return nil
}

// element follows the markup just read, s.tag.
func (s *xmlScan) element() error {
	t := s.tag
	switch s.kind {
	case 'D':
		return &FatalError{Msg: fmt.Sprintf("%s: a DOCTYPE or other XML declaration, which an .xlsx has none of", s.part)}
	case '<':
	default:
		return nil
	}
	end := len(t) > 1 && t[1] == '/'
	name, n := t[1:], 0 // the local name, after any prefix
	if end {
		name = t[2:]
	}
	for n < len(name) && !xmlSpace(name[n]) && name[n] != '/' && name[n] != '>' {
		if n++; name[n-1] == ':' {
			name, n = name[n:], 0
		}
	}
	name, attrs := name[:n], name[n:]
	empty := !end && len(t) > 1 && t[len(t)-2] == '/'
	switch {
	case end:
		s.depth--
	case !empty:
		if s.depth++; s.depth > xlsxMaxDepth {
			return tooBig(fmt.Sprintf("%s: XML elements nest more than %d deep", s.part, xlsxMaxDepth))
		}
	}
	if !end {
		if s.elements++; s.decoded && s.elements > xlsxMaxElements {
			return tooBig(fmt.Sprintf("%s has more than %d XML elements", s.part, xlsxMaxElements))
		}
	}
	switch string(name) {
	case "row":
		s.endRow()
		if !end {
			s.row, s.rowRef, s.shared = s.tokStart, append(s.rowRef[:0], xmlAttr(attrs, "r")...), 0
			if empty {
				s.endRow()
			}
		}
	case "c":
		s.cell = -1
		if !end && !empty {
			s.cell, s.cellRef = s.tokStart, append(s.cellRef[:0], xmlAttr(attrs, "r")...)
		}
		if !end && string(xmlAttr(attrs, "t")) == "s" {
			if s.shared++; s.shared > s.tally.maxShared {
				s.tally.maxShared, s.tally.sharedPart = s.shared, s.part
			}
		}
	case "si":
		if !end {
			if s.tally.strings++; s.tally.strings > xlsxMaxStrings {
				return tooBig(fmt.Sprintf("the workbook has more than %d shared strings (%s)", xlsxMaxStrings, s.part))
			}
			s.si = s.tokStart
		}
		if (end || empty) && s.si >= 0 {
			s.tally.maxString, s.si = max(s.tally.maxString, s.pos-s.si), -1
		}
	}
	return nil
}

func (s *xmlScan) endRow() { s.row, s.cell = -1, -1 }

// xmlAttr returns the value of an attribute, any namespace, among a tag's
// attributes, or nil.
func xmlAttr(attrs []byte, name string) []byte {
	for i := 0; i < len(attrs); {
		for i < len(attrs) && xmlSpace(attrs[i]) {
			i++
		}
		key := i
		for i < len(attrs) && attrs[i] != '=' && attrs[i] != '>' && !xmlSpace(attrs[i]) {
			if attrs[i] == ':' {
				key = i + 1
			}
			i++
		}
		k := attrs[key:i]
		for i < len(attrs) && xmlSpace(attrs[i]) {
			i++
		}
		if i+1 >= len(attrs) || attrs[i] != '=' {
			return nil
		}
		for i++; i < len(attrs) && xmlSpace(attrs[i]); i++ {
		}
		if i >= len(attrs) || attrs[i] != '"' && attrs[i] != '\'' {
			return nil
		}
		j := bytes.IndexByte(attrs[i+1:], attrs[i])
		if j < 0 {
			return nil
		}
		if string(k) == name {
			return attrs[i+1 : i+1+j]
		}
		i += j + 2
	}
	return nil
}

func xmlSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
