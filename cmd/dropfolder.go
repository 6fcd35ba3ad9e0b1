package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/batchimport/batchimport/importer"
	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// A drop folder (SPEC §16) is a directory suppliers' files arrive in. A
// directory argument stands for the inputs in it; --done-dir and
// --failed-dir take each input away once its run is recorded, so that the
// next run of a cron job sees only what is new or still to finish.

// expandDirs replaces each directory argument by the inputs in it, in
// name order: regular files whose name tells their format (any name with
// --format), less rejects files, hidden files and temporary files. What is
// left out is said in the log, except rejects files, which are expected
// there.
func expandDirs(g *globalOptions, args []string, anyName bool) ([]string, map[string]bool, error) {
	var out []string
	fromDir := map[string]bool{}
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a) // a file, or a missing one, fails as itself
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, nil, fmt.Errorf("read directory %s: %w", a, err)
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."), strings.HasSuffix(name, ".tmp"), isRejectsFile(name):
				continue
			case !e.Type().IsRegular():
				// A symlink in an upload folder may point anywhere: its
				// rows would end up in a rejects file.
				g.log.Warn("not an input: not a regular file", "path", filepath.Join(a, name), "type", e.Type().String())
				continue
			}
			if _, ok := invoice.FormatOf(name); !ok && !anyName {
				g.log.Warn("not an input: the name tells no format (give --format to read every file)", "path", filepath.Join(a, name))
				continue
			}
			p := filepath.Join(a, name)
			if !fromDir[p] { // a folder given twice
				out = append(out, p)
				fromDir[p] = true
			}
		}
	}
	return out, fromDir, nil
}

// isRejectsFile says whether a file name is a rejects file's: NAME.rejects.EXT.
func isRejectsFile(name string) bool {
	return strings.Contains(strings.ToLower(name), ".rejects.")
}

// dropDirs are where inputs go once their run is recorded.
type dropDirs struct {
	done, failed string // "" = stays
}

// check refuses directories that are missing, or on another file system
// than an input (a move must be a rename, which a crash cannot tear).
func (d dropDirs) check(inputs []string) error {
	for _, dir := range []struct{ flag, path string }{{"--done-dir", d.done}, {"--failed-dir", d.failed}} {
		if dir.path == "" {
			continue
		}
		st, err := os.Stat(dir.path)
		if err != nil || !st.IsDir() {
			return usagef("%s %s: not a directory (create it first)", dir.flag, dir.path)
		}
		for _, in := range inputs {
			if in == "-" {
				continue
			}
			if ist, err := os.Stat(in); err == nil && device(ist) != device(st) {
				return usagef("%s %s is on another file system than %s: a move there would be a copy, which a crash could leave half done", dir.flag, dir.path, in)
			}
			if dst, err := os.Stat(filepath.Dir(in)); err == nil && os.SameFile(dst, st) {
				return usagef("%s %s is the directory %s is in: give another directory", dir.flag, dir.path, in)
			}
		}
	}
	return nil
}

// destination is where an input goes after its run: success, partial
// success or skipped to done; failed or rejected to failed; nothing else
// moves. A failure of the database or of another process's hold is no
// failure of the file: it stays, for the next run to try again.
func (d dropDirs) destination(sum *importer.Summary) string {
	if sum.Source == "-" || sum.DryRun != "" {
		return ""
	}
	switch sum.Status {
	case store.StatusSuccess, store.StatusPartialSuccess, store.StatusSkipped:
		return d.done
	case store.StatusRejected:
		return d.failed
	case store.StatusFailed:
		var locked *store.LockedError
		var fenced *store.FencedError
		var changed *importer.ChangedError
		if sum.RunID == nil || store.IsTransient(sum.Err) || errors.As(sum.Err, &locked) || errors.As(sum.Err, &fenced) ||
			errors.Is(sum.Err, context.Canceled) || errors.As(sum.Err, &changed) {
			return "" // not the file's fault, or an upload still being written
		}
		return d.failed
	}
	return ""
}

// move takes the input, and its rejects file when it lies beside it, to
// the directory its run's outcome says. The rejects file goes first: a
// crash between the two leaves the input behind, which the next run skips
// as imported and moves then. The summary names the rejects file where it
// went; movedFrom is where it was, "" when it did not move.
func (d dropDirs) move(log *slog.Logger, sum *importer.Summary) (movedFrom string, err error) {
	dir := d.destination(sum)
	if dir == "" {
		return "", nil
	}
	// Only the file the run read: one put in its place meanwhile (a
	// supplier's upload by rename) stays, for the next run to read.
	if now, err := os.Lstat(sum.Source); errors.Is(err, fs.ErrNotExist) {
		return "", nil // another job moved it
	} else if err != nil || sum.Opened == nil || !os.SameFile(now, sum.Opened) {
		log.Warn("the input was replaced while it was imported: left in place for the next run", "source", sum.Source)
		return "", nil
	}
	if sum.RejectsFile != nil && filepath.Dir(*sum.RejectsFile) == filepath.Dir(absOrSelf(sum.Source)) {
		if _, err := os.Lstat(*sum.RejectsFile); err == nil {
			to, err := moveInto(*sum.RejectsFile, dir, sum.RunID)
			if err != nil {
				return "", err
			}
			to = absOrSelf(to) // as the summary names it, wherever it is read from
			log.Info("moved", "from", *sum.RejectsFile, "to", to)
			movedFrom, sum.RejectsFile = *sum.RejectsFile, &to
		}
	}
	to, err := moveInto(sum.Source, dir, sum.RunID)
	if errors.Is(err, fs.ErrNotExist) {
		return movedFrom, nil // another job moved it meanwhile
	}
	if err != nil {
		return movedFrom, err
	}
	log.Info("moved", "from", sum.Source, "to", to, "status", sum.Status)
	return movedFrom, nil
}

func absOrSelf(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// moveInto moves a file into dir under its own name, or, when a file of
// that name is there already, under its name with the run's id (and a
// counter) before the extension: a move never replaces a file. The new
// name is linked before the old one is removed, and both directories are
// synced, so that a crash leaves the file under one name or both, never
// under none.
func moveInto(path, dir string, runID *int64) (string, error) {
	base := filepath.Base(path)
	stem, ext := splitExt(base)
	for n := 0; ; n++ {
		name := base
		if n > 0 {
			tag := ".moved"
			if runID != nil {
				tag = ".run-" + strconv.FormatInt(*runID, 10)
			}
			if n > 1 {
				tag += "-" + strconv.Itoa(n)
			}
			name = stem + tag + ext
		}
		to := filepath.Join(dir, name)
		err := os.Link(path, to)
		if errors.Is(err, fs.ErrExist) && !same(path, to) {
			continue
		}
		if errors.Is(err, fs.ErrExist) {
			err = nil // linked by a move that a crash cut short
		}
		if err != nil {
			return "", fmt.Errorf("move %s to %s: %w", path, dir, err)
		}
		if err := syncDir(dir); err != nil {
			return "", err
		}
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("move %s to %s: %w", path, dir, err)
		}
		return to, syncDir(filepath.Dir(path))
	}
}

func same(a, b string) bool {
	sa, err1 := os.Lstat(a)
	sb, err2 := os.Lstat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// splitExt splits a file name before its extension, taking .gz with the
// one before it: may.2026.csv.gz → may.2026, .csv.gz.
func splitExt(name string) (string, string) {
	ext := filepath.Ext(name)
	if strings.EqualFold(ext, ".gz") {
		ext = filepath.Ext(strings.TrimSuffix(name, ext)) + ext
	}
	if slices.Contains([]string{"", "."}, strings.TrimSuffix(name, ext)) {
		return name, ""
	}
	return strings.TrimSuffix(name, ext), ext
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// recordMovedRejects records where a run's rejects file went with its
// input, so that status names it there. The files are moved already: a
// failure to record it is only a warning.
func recordMovedRejects(ctx context.Context, g *globalOptions, log *slog.Logger, runID int64, from, to string) {
	db, err := store.Open(ctx, g.dbConfig())
	if err == nil {
		err = db.MovedRejectsFile(ctx, runID, from, to)
		db.Close(context.WithoutCancel(ctx))
	}
	if err != nil {
		log.Warn("the rejects file was moved, but the run still names where it was", "run_id", runID, "path", to, "error", err)
	}
}
