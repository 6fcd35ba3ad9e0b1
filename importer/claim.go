package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// claim decides what to do with the source, under its lock (except in a
// read-only dry run, which changes nothing): skip it (already imported),
// refuse it (its --source-id named other content), resume its unfinished
// run, or start a new one (r.run stays zero until start). It returns true
// when there is nothing to import.
func (r *runner) claim(ctx context.Context) (done bool, err error) {
	if r.opts.DryRun != ReadOnly {
		if err := lockSource(ctx, r.db, r.key); err != nil {
			return false, err
		}
		// Corrections of the account wait, or are refused, while the
		// import resolves against the catalogue it loads.
		if err := r.db.LockAccountShared(ctx, r.opts.Account); err != nil {
			return false, err
		}
	}
	if err := r.checkContent(ctx); err != nil {
		return false, err
	}
	if by := r.opts.Earlier.importedBy(r.key, r.opts.Account); by != "" && r.opts.DryRun == ReadOnly && !r.opts.Force {
		// Importing the inputs one after another, that one's run would
		// have imported the source: this one is skipped.
		r.sum.Status, r.sum.AlreadyImported = store.StatusSkipped, true
		r.opts.Log.Info("source imported by an input before it (same bytes); skipping (use --force to import it again)",
			"source", r.src.in.Name, "imported_by", by)
		return true, nil
	}
	last, ok, err := r.db.LastRun(ctx, r.key, r.opts.Account)
	switch {
	case err != nil:
		return false, err
	case !ok:
		return false, nil
	case last.Status.Done() && !r.opts.Force:
		if r.src.f == nil && r.opts.SourceID != "" {
			// Standard input is read whole to know it is the same.
			if _, err := io.Copy(io.Discard, r.src.reader()); err != nil {
				return false, fmt.Errorf("read standard input: %w", err)
			}
			r.src.content = r.src.readContent()
			if err := r.checkContent(ctx); err != nil {
				return false, err
			}
		}
		// The counts of a skipped source are this invocation's: nothing.
		r.sum.Status, r.sum.AlreadyImported = store.StatusSkipped, true
		r.sum.RunID = &last.ID
		// A rejects file that was lost (or moved away with its input) is
		// written again, and belongs to this summary: a drop folder moves
		// it with the input. Not writing it fails nothing: the rejects
		// are in the database.
		if path, err := r.restoreRejects(ctx, last); err != nil {
			r.opts.Log.Warn("could not write the missing rejects file of the run (batchimport rejects RUN rebuilds it)", "run_id", last.ID, "error", err)
		} else if path != "" {
			r.sum.RejectsFile = &path
		}
		r.opts.Log.Info("source already imported; skipping (use --force to import it again)", "source", r.src.in.Name, "run_id", last.ID)
		return true, nil
	case last.Status == store.StatusReverted:
		r.revertedRejects = last.RejectsFile
	case last.Status == store.StatusRejected:
		r.supersede = last.ID // by start; a read-only dry run only counts its invoices as the source's
	case last.Status.Resumable():
		r.run = last
		r.run.Owner = "" // taken in start
		if line := last.Progress.Line; last.Progress.Record > 0 {
			r.sum.ResumedFromLine = &line
			r.opts.Log.Info("resuming an unfinished run", "run_id", last.ID, "after_line", line)
		}
		if r.opts.DryRun != Write {
			r.sum.RunID = nil
		}
	}
	return false, nil
}

// restoreRejects writes the rejects file of a finished run again when it is
// missing (it could not be written, or was deleted) or still empty as the
// run reserved it (killed after its end was recorded, before the file was
// written): the rejects are in the database.
func (r *runner) restoreRejects(ctx context.Context, run store.Run) (string, error) {
	if r.opts.DryRun != Write || run.Progress.RowsRejected == 0 || run.RejectsFile == "" {
		return "", nil
	}
	if r.src.f != nil && filepath.Dir(run.RejectsFile) != filepath.Dir(absPath(r.src.in.Name)) {
		return "", nil // the input came back elsewhere: no file is written where it is not
	}
	_, err := os.Lstat(run.RejectsFile)
	reserved := isEmptyFile(run.RejectsFile)
	if !reserved && !errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	removeTemps(run.RejectsFile)
	out, err := createOutFile(run.RejectsFile)
	if err != nil {
		return "", err
	}
	out.replace = reserved
	n, err := writeRunRejects(ctx, r.db, run, false, out.w)
	if err != nil || n == 0 { // a run from before rejects were stored has none to write
		out.discard()
		return "", err
	}
	r.opts.Log.Info("wrote the missing rejects file of the run", "run_id", run.ID, "path", run.RejectsFile, "rejects", n)
	return run.RejectsFile, out.commit()
}

// checkContent refuses a --source-id that an earlier run used for other
// bytes.
func (r *runner) checkContent(ctx context.Context) error {
	if r.opts.SourceID == "" || r.src.content.SHA256 == "" {
		return nil
	}
	was, runID, err := r.db.ContentOf(ctx, r.key, r.opts.Account)
	if err != nil || was.SHA256 == "" || was.SHA256 == r.src.content.SHA256 {
		return err
	}
	return &ReusedSourceError{SourceID: r.opts.SourceID, RunID: runID, Was: describe(was), Now: describe(r.src.content)}
}

func describe(c store.Content) string {
	if c.Size == nil {
		return "sha256 " + c.SHA256[:12]
	}
	return fmt.Sprintf("%d bytes, sha256 %s", *c.Size, c.SHA256[:12])
}

// start takes the run claimed, or records a new one, as this process's: from
// now on only this process's commits count for it. A read-only dry run
// takes nothing, but fails as the import would to supersede a run.
func (r *runner) start(ctx context.Context, layout invoice.Layout) error {
	if r.db != nil && r.opts.DryRun == ReadOnly && r.supersede != 0 {
		if err := r.db.CheckSupersede(ctx, r.supersede); err != nil {
			return err // as SupersedeRun would refuse it
		}
		if by := r.opts.Earlier.tookBack(r.supersede); by != "" {
			return fmt.Errorf("run %[1]d's rejected records, fixed, are imported by an input before it (%[2]s): its source imported again would import them a second time: "+
				"import the rest of run %[1]d's rejects (batchimport rejects %[1]d) instead of its source", r.supersede, filepath.Base(by))
		}
		r.opts.Earlier.supersede(r.supersede, r.src.in.Name)
		return nil
	}
	if r.db == nil || r.opts.DryRun == ReadOnly {
		return nil
	}
	in := store.InputLayout{Format: string(layout.Format), Delimiter: string(layout.Delimiter), Header: layout.EncodeHeader(), Encoding: layout.Encoding}
	var err error
	switch {
	case r.run.ID != 0:
		// A resume given another --rejects records it: the run's rejects
		// file, written again from there when it goes missing, is that one.
		r.run, err = r.db.ResumeRun(ctx, r.run.ID, ownerToken(), in, r.rejectsFile)
	case r.supersede != 0:
		if err = r.db.SupersedeRun(ctx, r.supersede); err != nil {
			return err
		}
		fallthrough
	default:
		r.run, err = r.db.CreateRun(ctx, store.NewRun{SourceKey: r.key, SourceName: r.sourceName(), Account: r.opts.Account,
			RejectsFile: r.rejectsFile, Owner: ownerToken(), Content: r.src.content, Input: in})
	}
	if err == nil && r.opts.DryRun == Write {
		r.sum.RunID = &r.run.ID
	}
	return err
}

// ownerToken names this process, uniquely: a run's owner.
func ownerToken() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("pid %d on %s, %s", os.Getpid(), host, hex.EncodeToString(b[:]))
}

func (r *runner) sourceName() string {
	if r.src.in.IsStdin() {
		return "-"
	}
	return absPath(r.src.in.Name)
}

// rejectsPath is where the run's rejects file goes: --rejects, else where
// the run recorded it, else beside the input. Dry runs write one only when
// asked to.
func (r *runner) rejectsPath() string {
	switch {
	case r.opts.RejectsPath != "":
		return absPath(r.opts.RejectsPath)
	case r.opts.DryRun != Write:
		return ""
	case r.run.RejectsFile != "":
		return r.run.RejectsFile
	}
	name := r.src.in.Name
	if r.src.in.IsStdin() {
		// Each standard input is a source of its own, and so gets its own
		// rejects file: stdin.KEY.rejects.csv.
		name = "stdin." + fileSafe(strings.TrimPrefix(r.key, "stdin:")) + "." + string(r.format)
	}
	return absPath(invoice.RejectsPath(name, r.format))
}

// fileSafe makes a source key usable in a file name.
func fileSafe(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 64)])
}

// absPath makes p absolute, so that a run resumed from another directory
// writes the same file.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
