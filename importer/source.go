package importer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Input is one file to import, or standard input.
type Input struct {
	// Name is the path given on the command line; "-" is standard input.
	Name string
	// Stdin is read when Name is "-".
	Stdin io.Reader
}

// IsStdin says whether the input is standard input.
func (in Input) IsStdin() bool { return in.Name == "-" }

// sourceKey identifies an input for resume and deduplication: the
// --source-id if given, else sha256: and the hex SHA-256 of the file's bytes.
// Standard input without --source-id gets a key of its own (no resume, no
// deduplication); unique is true then.
func sourceKey(in Input, sourceID string) (key string, unique bool, err error) {
	if sourceID != "" {
		return sourceID, false, nil
	}
	if in.IsStdin() {
		var b [12]byte
		_, _ = rand.Read(b[:])
		return "stdin:" + hex.EncodeToString(b[:]), true, nil
	}
	f, err := os.Open(in.Name)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", false, fmt.Errorf("read %s: %w", in.Name, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), false, nil
}

// open returns the input's reader, its size (-1 when unknown) and a closer.
func (in Input) open() (io.ReadCloser, int64, error) {
	if in.IsStdin() {
		return io.NopCloser(in.Stdin), -1, nil
	}
	f, err := os.Open(in.Name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a directory", in.Name)
	}
	return f, st.Size(), nil
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
