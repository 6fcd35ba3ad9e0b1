//go:build unix

package importer

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO where a file was expected (a hostile upload folder can swap one
// in between listing and opening) is refused at once: opening it does not
// wait for a writer.
func TestOpenSourceRefusesAFIFOAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invoices.csv")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		s, err := openSource(Input{Name: path}, 0)
		if err == nil {
			s.f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("opening a FIFO: %v, want refused as not a regular file", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO blocked")
	}
}
