package invoice

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// stringCap reads JSON text and cuts every string longer than max bytes to
// its first max, so that the decoder reading through it never holds a long
// string whole: a description of 300 MB, or an invoice's PDF in base64
// beside its lines. A cut falls at the start of a character, never inside
// an escape or a surrogate pair, so the text stays JSON; a line end (not
// JSON inside a string) is never dropped, so lines are counted right and
// the decoder still finds it. Where it cut, and how much, is kept (cuts),
// as offsets in what it returns.
type stringCap struct {
	r    io.Reader
	max  int
	out  int64 // bytes returned so far
	in   bool  // inside a string
	esc  int   // an escape's bytes still to come: -1 after the backslash, then the four of \u
	hex  rune  // the \u escape's value so far
	high bool  // the last escape was a high surrogate, whose pair must not be cut off
	kept int   // bytes of the current string kept
	drop bool  // the rest of the current string is dropped
	cuts []cut
}

// cut is where a string was cut, in what stringCap returns, and the bytes
// dropped there.
type cut struct {
	at, dropped int64
}

func (c *stringCap) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		w := c.filter(p[:n])
		c.out += int64(w)
		if w > 0 || err != nil || n == 0 {
			return w, err
		}
		// All dropped: read on rather than return nothing.
	}
}

// filter drops the bytes of b past the cap in place and returns how many
// are kept.
func (c *stringCap) filter(b []byte) int {
	w := 0
	for i := 0; i < len(b); {
		if !c.in {
			// Outside strings, everything is kept, up to the next quote.
			j := bytes.IndexByte(b[i:], '"')
			if j < 0 {
				return w + copy(b[w:], b[i:])
			}
			w += copy(b[w:], b[i:i+j+1])
			i += j + 1
			c.in, c.kept = true, 0
			continue
		}
		if c.esc == 0 && (c.drop || c.kept < c.max) {
			// Plain bytes of the string, up to a quote or a backslash:
			// kept up to the cap, or dropped past it.
			seg := b[i:]
			if !c.drop {
				seg = seg[:min(len(seg), c.max-c.kept)]
			}
			j := bytes.IndexAny(seg, "\"\\\n")
			if j < 0 {
				j = len(seg)
			}
			if c.drop {
				c.cuts[len(c.cuts)-1].dropped += int64(j)
			} else {
				w += copy(b[w:], seg[:j])
				c.kept += j
			}
			if i += j; i == len(b) || j == len(seg) && !c.drop {
				continue // the end of b, or of what the cap keeps
			}
		}
		ch := b[i]
		i++
		switch {
		case c.esc == -1:
			c.esc = 0
			if ch == 'u' {
				c.esc, c.hex = 4, 0
			}
		case c.esc > 0:
			c.esc--
			c.hex = c.hex<<4 | rune(hexDigit(ch))
			c.high = c.esc == 0 && c.hex >= 0xD800 && c.hex <= 0xDBFF
		default:
			if !c.drop && c.kept >= c.max && ch != '"' && utf8.RuneStart(ch) && !c.high {
				c.drop = true
				c.cuts = append(c.cuts, cut{at: c.out + int64(w)})
			}
			c.high = false
			switch ch {
			case '\\':
				c.esc = -1
			case '"':
				c.in, c.drop = false, false
			}
		}
		if c.drop && c.in && ch != '\n' {
			c.cuts[len(c.cuts)-1].dropped++
			continue
		}
		b[w] = ch
		w++
		c.kept++
	}
	return w
}

func hexDigit(ch byte) byte {
	switch {
	case ch >= 'a':
		return ch - 'a' + 10
	case ch >= 'A':
		return ch - 'A' + 10
	}
	return ch - '0'
}

// droppedIn is what was cut from the strings of the text from..to (in
// what stringCap returned), and forgets the cuts before to: the spans
// asked about must come in order.
func (c *stringCap) droppedIn(from, to int64) int64 {
	var n int64
	k := 0
	for ; k < len(c.cuts) && c.cuts[k].at < to; k++ {
		if c.cuts[k].at >= from {
			n += c.cuts[k].dropped
		}
	}
	c.cuts = c.cuts[:copy(c.cuts, c.cuts[k:])]
	return n
}
