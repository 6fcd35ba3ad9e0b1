package cmd

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/store"
)

// A drop folder moves only the file its run read: one put in its place
// during the run (an upload by rename) stays; a file that changed while
// it was read (an upload still being written) stays too.
func TestDropFolderMovesOnlyTheFileItRead(t *testing.T) {
	in, done, failed := t.TempDir(), t.TempDir(), t.TempDir()
	d := dropDirs{done: done, failed: failed}
	log := slog.New(slog.DiscardHandler)
	path := filepath.Join(in, "a.csv")
	write := func(s string) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	opened, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	run := int64(7)
	write("second, uploaded while the first was imported")
	sum := importer.Summary{Status: store.StatusSuccess, Source: path, RunID: &run, Opened: opened}
	if err := d.move(log, &sum); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second, uploaded while the first was imported" {
		t.Errorf("the replacement was moved: %q left", b)
	}

	// The file the run read moves, once; a second move of it (another
	// job's) is no error.
	sum.Opened, _ = os.Stat(path)
	if err := d.move(log, &sum); err != nil {
		t.Fatal(err)
	}
	if err := d.move(log, &sum); err != nil {
		t.Errorf("a move of a file gone already: %v", err)
	}
	if _, err := os.Stat(filepath.Join(done, "a.csv")); err != nil {
		t.Errorf("not moved: %v", err)
	}

	changed := importer.Summary{Status: store.StatusFailed, Source: path, RunID: &run, Err: &importer.ChangedError{}}
	if to := d.destination(&changed); to != "" {
		t.Errorf("a file that changed while it was read goes to %q; want it to stay", to)
	}
}
