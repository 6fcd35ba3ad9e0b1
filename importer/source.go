package importer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batchimport/batchimport/internal/regular"
	"github.com/batchimport/batchimport/store"
)

// Input is one file to import, or standard input.
type Input struct {
	// Name is the path given on the command line; "-" is standard input.
	Name string
	// Stdin is read when Name is "-".
	Stdin io.Reader
	// NoSymlink refuses a path that is a symlink when it is opened: an
	// input found in a drop folder, which a hostile uploader may swap for
	// a link after the folder was listed.
	NoSymlink bool
}

// IsStdin says whether the input is standard input.
func (in Input) IsStdin() bool { return in.Name == "-" }

// source is an input opened once for its run. A file is hashed first, and
// then exactly the bytes hashed are read again, from the same open file,
// through a hash that must come out the same; its size and modification
// time are checked before every commit. So a run imports the bytes its
// source key names, or fails naming the change.
type source struct {
	in      Input
	f       *os.File // nil for standard input
	stat    os.FileInfo
	content store.Content // a file's, known before reading; stdin's, at its end

	read   atomic.Int64 // bytes read so far, for progress
	mu     sync.Mutex
	digest string // hex SHA-256 of what was read, once all was read
	// endsOpen is true for a file whose last line has no line end, once
	// hashed (endsOpen).
	endsOpen bool
}

// openSource opens the input. A file modified less than minAge ago is
// refused with *deferredError.
func openSource(in Input, minAge time.Duration) (*source, error) {
	s := &source{in: in}
	if in.IsStdin() {
		return s, nil
	}
	f, st, err := regular.Open(in.Name)
	if errors.Is(err, regular.ErrNotRegular) {
		return nil, fmt.Errorf("%s is not a regular file", in.Name)
	}
	if err != nil {
		return nil, err
	}
	if in.NoSymlink {
		// The path, looked at after the open: a link there, or another
		// file than the one opened, is refused.
		if lst, lerr := os.Lstat(in.Name); lerr != nil || !lst.Mode().IsRegular() || !os.SameFile(st, lst) {
			err = fmt.Errorf("%s is a symlink, or was replaced while it was opened: not read", in.Name)
		}
	}
	if err == nil && minAge > 0 {
		if age := time.Since(st.ModTime()); age < minAge {
			err = &deferredError{age: age, minAge: minAge}
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	s.f, s.stat = f, st
	return s, nil
}

// hash reads the whole file and records its content.
func (s *source) hash() error {
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(s.f, 0, s.stat.Size()))
	if err != nil {
		return fmt.Errorf("read %s: %w", s.in.Name, err)
	}
	if n != s.stat.Size() {
		return &ChangedError{Path: s.in.Name, What: fmt.Sprintf("%d bytes instead of %d", n, s.stat.Size())}
	}
	s.content = store.Content{SHA256: hex.EncodeToString(h.Sum(nil)), Size: &n}
	s.endsOpen = endsOpen(s.f, n)
	return nil
}

// endsOpen says whether a file of n bytes ends inside a line: a text file
// written whole ends with a line end (most do; in UTF-16 little-endian, a
// line end and a zero byte), a file still being written anywhere. A gzip
// file is not text: one cut short fails to decompress.
func endsOpen(f io.ReaderAt, n int64) bool {
	if n == 0 {
		return false
	}
	lineEnd := func(b byte) bool { return b == '\n' || b == '\r' }
	var head, tail [2]byte
	k := min(n, 2)
	if _, err := f.ReadAt(tail[2-k:], n-k); err != nil || lineEnd(tail[1]) || tail[1] == 0 && lineEnd(tail[0]) {
		return false
	}
	_, err := f.ReadAt(head[:], 0)
	return err != nil || head != [2]byte{0x1f, 0x8b}
}

// key is the source key: the --source-id, or sha256: and the file's hash.
// Standard input without --source-id gets a key of its own (no resume, no
// deduplication); unique is true then.
func (s *source) key(sourceID, part string) (key string, unique bool) {
	switch {
	case sourceID != "":
		return sourceID, false
	case s.f != nil && part != "":
		return "sha256:" + s.content.SHA256 + "#" + part, false
	case s.f != nil:
		return "sha256:" + s.content.SHA256, false
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "stdin:" + hex.EncodeToString(b[:]), true
}

// reader returns the bytes to import, from the start: a file's hashed
// bytes, or standard input. It may be called again after a failed attempt.
func (s *source) reader() *hashingReader {
	s.read.Store(0)
	var r io.Reader = s.in.Stdin
	if s.f != nil {
		r = io.NewSectionReader(s.f, 0, s.stat.Size())
	}
	return &hashingReader{s: s, r: r, h: sha256.New()}
}

// size is the number of bytes to read, or -1 when unknown.
func (s *source) size() int64 {
	if s.f == nil {
		return -1
	}
	return s.stat.Size()
}

// check fails with *ChangedError when the file is no longer what was
// hashed: another size or modification time, or, once read to the end,
// another hash.
func (s *source) check() error {
	if s.f == nil {
		return nil
	}
	// The open file is what is read: a file renamed over its path later is
	// another source, and leaves this one intact.
	st, err := s.f.Stat()
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", s.in.Name, err)
	case st.Size() != s.stat.Size():
		return &ChangedError{Path: s.in.Name, What: fmt.Sprintf("its size went from %d to %d bytes", s.stat.Size(), st.Size())}
	case !st.ModTime().Equal(s.stat.ModTime()):
		return &ChangedError{Path: s.in.Name, What: "it was modified at " + st.ModTime().Format(time.RFC3339Nano)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.digest != "" && s.digest != s.content.SHA256 {
		return &ChangedError{Path: s.in.Name, What: "its bytes hash differently now"}
	}
	return nil
}

// readContent is the content of what was read, once all was read.
func (s *source) readContent() store.Content {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.digest == "" {
		return store.Content{}
	}
	n := s.read.Load()
	return store.Content{SHA256: s.digest, Size: &n}
}

func (s *source) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// hashingReader hashes and counts what is read through it, records the
// digest at the end, and can check that the input starts as an earlier
// run's did (expect). A decoder may read it on a goroutine of its own (the
// CSV decoder's gocsv does) while the producer asks where it stands, hence
// the lock.
type hashingReader struct {
	s  *source
	r  io.Reader
	mu sync.Mutex
	h  hash.Hash
	n  int64 // bytes read

	wantN      int64  // the first wantN bytes
	wantDigest string // must hash to this,
	prefix     prefixState
	differs    error // else this is the error
}

// prefixState is how far the check of a resumed input's start is.
type prefixState int

const (
	prefixNone    prefixState = iota // nothing to check, or checked
	prefixPending                    // not yet read that far
	prefixDiffers
)

// expect makes the reader check that the input's first n bytes hash to
// digest, as they did for the run being resumed, else the check fails with
// differs.
func (r *hashingReader) expect(n int64, digest string, differs error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 && digest != "" {
		r.wantN, r.wantDigest, r.prefix, r.differs = n, digest, prefixPending, differs
	}
}

// digest is what was read so far: how many bytes, and their hash.
func (r *hashingReader) digest() (int64, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum()
}

func (r *hashingReader) sum() (int64, string) {
	return r.n, hex.EncodeToString(r.h.Sum(nil))
}

// check is how far the check of the input's start is.
func (r *hashingReader) check() prefixState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prefix
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := p[:n]
	if r.prefix == prefixPending && r.n+int64(n) >= r.wantN {
		k := r.wantN - r.n
		r.h.Write(b[:k])
		r.n, b = r.wantN, b[k:]
		if _, d := r.sum(); d == r.wantDigest {
			r.prefix = prefixNone
		} else {
			r.prefix = prefixDiffers
		}
	}
	r.h.Write(b)
	r.n += int64(len(b))
	r.s.read.Add(int64(n))
	if err == io.EOF {
		_, d := r.sum()
		r.s.mu.Lock()
		r.s.digest = d
		r.s.mu.Unlock()
	}
	return n, err
}
