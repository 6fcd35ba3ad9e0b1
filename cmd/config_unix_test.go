//go:build unix

package cmd

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A named pipe given as the config is refused, not opened: opening it
// waits for a writer, and a cron job would hang there.
func TestLoadConfigOfAPipe(t *testing.T) {
	pipe := filepath.Join(t.TempDir(), "config.toml")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := loadConfig(pipe)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("--config of a pipe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--config of a pipe: still waiting after 10 s")
	}
}
