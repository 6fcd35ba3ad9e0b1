package invoice

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// skipper finds where a JSON value ends without keeping it, from bytes
// given in pieces: an object or array at its closing bracket, a string at
// its closing quote, anything else before the byte that ends it. Brackets
// must match, up to maxSkipDepth deep (a byte each).
type skipper struct {
	open        []byte // the brackets open, innermost last
	deeper      int64  // levels open past maxSkipDepth
	str, escape bool
	started     bool
	scalar      bool
}

// feed returns the index in b just past the value, or -1 if it goes on.
func (k *skipper) feed(b []byte) (int, error) {
	for i, c := range b {
		switch {
		case k.escape:
			k.escape = false
		case k.str && c == '\\':
			k.escape = true
		case k.str:
			if c == '"' {
				k.str = false
				if len(k.open) == 0 {
					return i + 1, nil
				}
			}
		case !k.started && strings.IndexByte(jsonSpace, c) >= 0:
		case !k.started:
			k.started = true
			switch c {
			case '{', '[':
				k.open = append(k.open, c)
			case '"':
				k.str = true
			default:
				k.scalar = true
			}
		case k.scalar:
			if strings.IndexByte(jsonSpace+",]}", c) >= 0 {
				return i, nil
			}
		case c == '"':
			k.str = true
		case c == '{' || c == '[':
			if len(k.open) >= maxSkipDepth {
				k.deeper++
				continue
			}
			k.open = append(k.open, c)
		case (c == '}' || c == ']') && k.deeper > 0:
			k.deeper--
		case c == '}' || c == ']':
			if want := k.open[len(k.open)-1] + 2; c != want { // '{'+2 is '}', '['+2 is ']'
				return -1, fmt.Errorf("invalid character %s closing %s", quoteByte(c), quoteByte(k.open[len(k.open)-1]))
			}
			if k.open = k.open[:len(k.open)-1]; len(k.open) == 0 {
				return i + 1, nil
			}
		}
	}
	return -1, nil
}

// maxSkipDepth bounds the stack of brackets a skipped element holds open,
// a byte per level; past it, levels are only counted (skipper.deeper),
// their brackets not matched: the element is a reject whatever they are,
// and its end is where its count comes back to zero.
const maxSkipDepth = 1 << 20

// lineCounter passes reads through and notes where the newlines are, so the
// line of any stream offset the JSON decoder reports can be computed without
// keeping the bytes. Only newlines the decoder has read but not yet passed
// are kept: a buffer's worth.
type lineCounter struct {
	r     io.Reader
	mark  int64   // where the element being read starts, roughly (what was read then)
	limit int64   // most bytes read past mark (0: no limit)
	read  int64   // bytes read so far
	nl    []int64 // offsets of the newlines at or after the last lineAt
	line  int     // newlines before the offset of the last lineAt
	err   error   // the first read error other than io.EOF
}

func (c *lineCounter) Read(p []byte) (int, error) {
	if c.limit > 0 {
		room := c.mark + c.limit - c.read
		if room <= 0 {
			return 0, errRecordTooLong
		}
		p = p[:min(int64(len(p)), room)]
	}
	n, err := c.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		if j < 0 {
			break
		}
		c.nl = append(c.nl, c.read+int64(i+j))
		i += j + 1
	}
	c.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = readError(err)
	}
	return n, err
}

// lineAt returns the 1-based line of the byte at offset off. Offsets asked
// for must never decrease; the newlines before off are forgotten.
func (c *lineCounter) lineAt(off int64) int {
	k := 0
	for k < len(c.nl) && c.nl[k] < off {
		k++
	}
	c.line += k
	c.nl = c.nl[k:]
	return c.line + 1
}
