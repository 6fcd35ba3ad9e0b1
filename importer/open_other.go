//go:build !unix

package importer

import "os"

// openInput opens a file to read.
func openInput(name string) (*os.File, error) {
	return os.Open(name)
}
