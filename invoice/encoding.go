package invoice

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// UTF8 is the encoding of inputs that say nothing else, and of every file
// batchimport writes.
const UTF8 = "utf-8"

// Encodings are the text encodings an input may have (--encoding).
var Encodings = []string{UTF8, "utf-16", "windows-1252", "iso-8859-1", "iso-8859-15"}

// CheckEncoding checks an --encoding value and returns its canonical name.
func CheckEncoding(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "", "utf8":
		n = UTF8
	case "cp1252":
		n = "windows-1252"
	case "latin1", "latin-1":
		n = "iso-8859-1"
	case "latin9", "latin-9":
		n = "iso-8859-15"
	case "utf16":
		n = "utf-16"
	}
	for _, e := range Encodings {
		if n == e {
			return n, nil
		}
	}
	return "", fmt.Errorf("--encoding %q: want one of %s", name, strings.Join(Encodings, ", "))
}

// decodeText turns the input into UTF-8. A byte order mark decides:
// UTF-8's is dropped, and the input read as UTF-8 whatever --encoding says
// (a rejects file of a transcoded input starts with one); UTF-16's are read
// as UTF-16. Otherwise the input is in the encoding named.
func decodeText(br *bufio.Reader, name string) *bufio.Reader {
	bom, _ := br.Peek(3)
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(bom, []byte{0xef, 0xbb, 0xbf}):
		_, _ = br.Discard(3)
		return br
	case bytes.HasPrefix(bom, []byte{0xff, 0xfe}), bytes.HasPrefix(bom, []byte{0xfe, 0xff}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case name == "utf-16":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case name == "windows-1252":
		enc = charmap.Windows1252
	case name == "iso-8859-1":
		enc = charmap.ISO8859_1
	case name == "iso-8859-15":
		enc = charmap.ISO8859_15
	default:
		return br
	}
	return bufio.NewReaderSize(transform.NewReader(br, enc.NewDecoder()), 64<<10)
}

// transcoded reports whether text read with an --encoding was made UTF-8:
// what is written of it (its rejects) then starts with a UTF-8 byte order
// mark, so that reading it back with the same --encoding reads UTF-8.
func transcoded(name string) bool { return name != "" && name != UTF8 }
