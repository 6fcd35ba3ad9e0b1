package invoice

import (
	"bufio"
	"bytes"
	"io"
)

// crLineEnds reads an input whose first line ends in a CR alone, as the
// CSV of old Mac software does, with each such CR as an LF; any other
// input as it is. The LF takes the CR's place, byte for byte, so offsets
// and line numbers stay those of the input.
//
// It waits for no more of the input than the first line end, and the
// byte after a CR: a slow stream's first line is not kept waiting.
func crLineEnds(br *bufio.Reader) io.Reader {
	for {
		head, _ := br.Peek(br.Buffered())
		switch i := bytes.IndexAny(head, "\r\n"); {
		case i >= 0 && head[i] == '\n':
			return br
		case i >= 0 && i+1 < len(head):
			if head[i+1] == '\n' {
				return br
			}
			return crReader{br}
		}
		if len(head) == br.Size() {
			return br
		}
		if _, err := br.Peek(len(head) + 1); err != nil {
			return br
		}
	}
}

// crReader turns each CR that no LF follows into an LF. A CR that ends
// what the input has brought so far waits for the byte after it.
type crReader struct{ r *bufio.Reader }

func (c crReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range n {
		if p[i] != '\r' {
			continue
		}
		if i+1 < n {
			if p[i+1] != '\n' {
				p[i] = '\n'
			}
		} else if next, _ := c.r.Peek(1); len(next) == 0 || next[0] != '\n' {
			p[i] = '\n'
		}
	}
	return n, err
}
