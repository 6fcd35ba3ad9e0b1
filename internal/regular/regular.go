// Package regular opens the files batchimport reads that must be regular
// files: inputs, a config, a file of corrections.
package regular

import (
	"errors"
	"os"
)

// ErrNotRegular is a device, a FIFO or a directory where a file was
// expected.
var ErrNotRegular = errors.New("not a regular file")

// Open opens name to read, and refuses anything but a regular file: a
// device would never end (/dev/zero), and a FIFO blocks its open until
// something writes to it. The open itself does not wait (openNow), and the
// file is checked once open, so a path swapped for a FIFO after being
// listed or looked at is refused too.
func Open(name string) (*os.File, os.FileInfo, error) {
	f, err := openNow(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = ErrNotRegular
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}
