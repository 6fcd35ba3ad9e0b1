//go:build unix

package importer

import (
	"os"
	"syscall"
)

// openInput opens a file to read without waiting: a FIFO put where a file
// was listed would otherwise block the open until something writes to it.
// The caller refuses anything but a regular file, on which O_NONBLOCK
// changes nothing.
func openInput(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
