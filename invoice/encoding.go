package invoice

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

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
	var t transform.Transformer
	switch {
	case bytes.HasPrefix(bom, []byte{0xef, 0xbb, 0xbf}):
		_, _ = br.Discard(3)
		return br
	case bytes.HasPrefix(bom, []byte{0xff, 0xfe}), bytes.HasPrefix(bom, []byte{0xfe, 0xff}):
		t = transform.Chain(unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder(), unreplaced{})
	case name == "utf-16":
		t = transform.Chain(unicode.UTF16(bigOrLittle(br), unicode.IgnoreBOM).NewDecoder(), unreplaced{})
	case codePages[name] != nil:
		sb := newSingleByte(codePages[name])
		if sb.looksUTF8(br) {
			// UTF-8 that says nothing: a rejects file whose byte order mark
			// an editor dropped, a spreadsheet's UTF-8 export. Read as a
			// code page it would be stored as mojibake ("CrÃ¨me").
			return br
		}
		t = sb
	default:
		return br
	}
	return bufio.NewReaderSize(transform.NewReader(br, t), 64<<10)
}

// bigOrLittle is the byte order of UTF-16 without a byte order mark: a
// header is ASCII, whose characters are a zero byte and their own, so the
// zeros of the first line say which comes first. Little-endian, as
// Windows writes it, unless more zeros come first.
func bigOrLittle(br *bufio.Reader) unicode.Endianness {
	start, _ := br.Peek(512)
	var first, second int
	for i := 0; i+1 < len(start); i += 2 {
		if start[i] == 0 && start[i+1] != 0 {
			first++
		} else if start[i] != 0 && start[i+1] == 0 {
			second++
		}
	}
	if first > second {
		return unicode.BigEndian
	}
	return unicode.LittleEndian
}

// codePages are the single-byte encodings.
var codePages = map[string]*charmap.Charmap{"windows-1252": charmap.Windows1252, "iso-8859-1": charmap.ISO8859_1, "iso-8859-15": charmap.ISO8859_15}

// looksUTF8 says whether the start of the input is UTF-8 with characters
// beyond ASCII, which text in a single-byte code page almost never is: the
// bytes of é in Windows-1252 (0xE9) start no valid UTF-8 sequence before
// an ASCII letter.
func (s *singleByte) looksUTF8(br *bufio.Reader) bool {
	head, _ := br.Peek(br.Size())
	// A sequence cut by the end of what was peeked is not held against it.
	for i := 0; i < 3 && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if !utf8.Valid(head) {
		return false
	}
	beyond := false
	prev := utf8.RuneError
	for len(head) > 0 {
		r, size := utf8.DecodeRune(head)
		next, _ := utf8.DecodeRune(head[size:])
		if size > 1 && !s.chanceless(prev, head[:size], next) {
			return false
		}
		beyond, prev, head = beyond || size > 1, r, head[size:]
	}
	return beyond
}

// chanceless says whether seq, a UTF-8 sequence of a character beyond
// ASCII, between the characters prev and next (utf8.RuneError: none, or a
// code page's), is one the code page's text does not hold by chance. Such
// text holds the bytes of two-byte UTF-8 where a word ends in a capital
// letter before a sign: "NESCAFÉ®" (C9 AE) is no "NESCAFɮ", "SAUTÉ…" no
// "SAUTɅ". Those are the code page's, unless UTF-8 stands next to them (a
// word in UTF-8); any other UTF-8 is UTF-8, a letter alone too ("5 μm",
// "Кофе в зёрнах", "Bột mì", "2份").
func (s *singleByte) chanceless(prev rune, seq []byte, next rune) bool {
	beyond := func(c rune) bool { return c >= 0x80 && c != utf8.RuneError }
	if r, _ := utf8.DecodeRune(seq); len(seq) == 2 && capitals[seq[0]] && s.signs[seq[1]] && (r < 0x218 || r > 0x21b) { // but ș, ț
		return beyond(prev) || beyond(next)
	}
	return true
}

// capitals are the capital letters of Windows-1252 a word ends in, whose
// byte leads UTF-8 of no letter that stands alone in text: È É Ë Í Ó Ö Ú
// Ü ß. (Not Ä Å Æ Ç Ê Ì Ñ Ð, whose bytes lead Polish ę, Vietnamese ư, pinyin
// ǒ, the ʻ of Hawaiʻi, a combining accent, Cyrillic, nor Î Ï, Greek.)
var capitals = [256]bool{0xc8: true, 0xc9: true, 0xcb: true, 0xcd: true, 0xd3: true, 0xd6: true, 0xda: true, 0xdc: true, 0xdf: true}

// signs are the bytes, 80 to BF, of the signs a code page writes after a
// word: in Windows-1252 € „ … ‘ ’ “ ” – — ™ NBSP ¤ © « ® ° » ½; in ISO-8859-15
// A4 is €. (singleByte.signs keeps those its code page has.)
var signs = [256]bool{0x80: true, 0x84: true, 0x85: true, 0x91: true, 0x92: true, 0x93: true, 0x94: true, 0x96: true, 0x97: true,
	0x99: true, 0xa0: true, 0xa4: true, 0xa9: true, 0xab: true, 0xae: true, 0xb0: true, 0xbb: true, 0xbd: true}

// notUTF8 stands for what a decoder could not read: a byte that is not
// UTF-8, so that the field holding it is rejected ("must be valid UTF-8"),
// naming its line, instead of stored as U+FFFD without a word.
const notUTF8 = "\xff"

// singleByte decodes a single-byte code page. A byte the code page leaves
// undefined, or that is a C1 control (no text holds one; in a Latin-1 file
// it is a Windows-1252 byte read with the wrong --encoding), becomes
// notUTF8.
type singleByte struct {
	table [256]string
	signs [256]bool // of signs, those the code page has (ISO-8859-1 has no €: 80 is a control)
	prev  rune      // the character decoded last, when ASCII or kept as UTF-8; else utf8.RuneError
}

func newSingleByte(cm *charmap.Charmap) *singleByte {
	s := &singleByte{prev: utf8.RuneError}
	for b := range 256 {
		r := cm.DecodeByte(byte(b))
		if r == utf8.RuneError || r >= 0x80 && r <= 0x9f {
			s.table[b] = notUTF8
		} else {
			s.table[b], s.signs[b] = string(r), signs[b]
		}
	}
	return s
}

func (s *singleByte) Reset() { s.prev = utf8.RuneError }

// Transform decodes src. A sequence that is UTF-8 for a character beyond
// ASCII that no code page text holds by chance (chanceless) is kept as it
// is: "é" as UTF-8 is two bytes that the code page reads as "Ã©", which no
// text in it holds. So a file that is UTF-8 after all, with its first
// accent past what decodeText looked at, or a file put together from a
// UTF-8 one and a code page one, is stored as written.
func (s *singleByte) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		b := src[nSrc]
		t, n, r := s.table[b], 1, rune(b)
		if b >= 0xc2 && b <= 0xf4 {
			rest := src[nSrc:]
			if !atEOF && !utf8.FullRune(rest) {
				return nDst, nSrc, transform.ErrShortSrc // maybe a sequence the next read ends
			}
			if u, size := utf8.DecodeRune(rest); u != utf8.RuneError && size > 1 {
				after := rest[size:]
				if !atEOF && !utf8.FullRune(after) && (len(after) == 0 || after[0] >= 0xc2) {
					return nDst, nSrc, transform.ErrShortSrc // what follows may tell
				}
				if next, _ := utf8.DecodeRune(after); s.chanceless(s.prev, rest[:size], next) {
					t, n, r = string(rest[:size]), size, u
				}
			}
		}
		if nDst+len(t) > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		if n == 1 && b >= 0x80 {
			r = utf8.RuneError // the code page's: no UTF-8 beside what follows
		}
		nDst += copy(dst[nDst:], t)
		nSrc += n
		s.prev = r
	}
	return nDst, nSrc, nil
}

// unreplaced turns the U+FFFD a UTF-16 decoder puts for a lone surrogate or
// an odd last byte into notUTF8. (A UTF-16 file that holds U+FFFD itself
// holds no text a person typed there.)
type unreplaced struct{ transform.NopResetter }

func (unreplaced) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	const fffd = "\uFFFD"
	for nSrc < len(src) {
		rest := src[nSrc:]
		n, repl := 1, rest[:1]
		switch {
		case bytes.HasPrefix(rest, []byte(fffd)):
			n, repl = len(fffd), []byte(notUTF8)
		case !atEOF && len(rest) < len(fffd) && bytes.HasPrefix([]byte(fffd), rest):
			return nDst, nSrc, transform.ErrShortSrc // maybe the start of one
		}
		if nDst+len(repl) > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], repl)
		nSrc += n
	}
	return nDst, nSrc, nil
}

// transcoded reports whether text read with an --encoding was made UTF-8:
// what is written of it (its rejects) then starts with a UTF-8 byte order
// mark, so that reading it back with the same --encoding reads UTF-8.
func transcoded(name string) bool { return name != "" && name != UTF8 }
