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
	if _, err := d.move(log, &sum); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second, uploaded while the first was imported" {
		t.Errorf("the replacement was moved: %q left", b)
	}

	// The file the run read moves, once; a second move of it (another
	// job's) is no error.
	sum.Opened, _ = os.Stat(path)
	if _, err := d.move(log, &sum); err != nil {
		t.Fatal(err)
	}
	if _, err := d.move(log, &sum); err != nil {
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

// A rejects file moved with its input into a --done-dir given relative is
// named by its absolute path: a summary or status read from another
// directory (a cron job's) finds it.
func TestMovedRejectsFileIsNamedAbsolute(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	for _, d := range []string{"in", "done"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path, rejects := filepath.Join(root, "in", "a.csv"), filepath.Join(root, "in", "a.rejects.csv")
	for _, p := range []string{path, rejects} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opened, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	run := int64(7)
	sum := importer.Summary{Status: store.StatusPartialSuccess, Source: path, RunID: &run, Opened: opened, RejectsFile: &rejects}
	if _, err := (dropDirs{done: "done"}).move(slog.New(slog.DiscardHandler), &sum); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "done", "a.rejects.csv"); *sum.RejectsFile != want {
		t.Errorf("the rejects file is named %q, want %q", *sum.RejectsFile, want)
	}
}

// A move that a crash cut short between its link and its unlink leaves the
// file under both names; the next move finishes it, and a name taken by
// another file is never replaced.
func TestMoveIntoAfterACrashAndOnACollision(t *testing.T) {
	in, done := t.TempDir(), t.TempDir()
	path := filepath.Join(in, "b.csv.gz")
	if err := os.WriteFile(path, []byte("ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(path, filepath.Join(done, "b.csv.gz")); err != nil { // the crash
		t.Fatal(err)
	}
	run := int64(9)
	if to, err := moveInto(path, done, &run); err != nil || to != filepath.Join(done, "b.csv.gz") {
		t.Fatalf("the move after the crash: %q, %v", to, err)
	}
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("the input is still in its folder")
	}
	if err := os.WriteFile(path, []byte("a new one"), 0o644); err != nil {
		t.Fatal(err)
	}
	to, err := moveInto(path, done, &run)
	if err != nil || to != filepath.Join(done, "b.run-9.csv.gz") {
		t.Fatalf("the move beside a taken name: %q, %v", to, err)
	}
	if b, _ := os.ReadFile(filepath.Join(done, "b.csv.gz")); string(b) != "ours" {
		t.Errorf("the taken name was replaced: %q", b)
	}
}
