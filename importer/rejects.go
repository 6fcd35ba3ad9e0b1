package importer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// A run's rejects live in the database (store.Reject), stored with the
// chunk they belong to. The rejects file is written from there at the end
// of the run, and rebuilt at any time by WriteRejects: exactly once each,
// whatever happened during the run.

// outFile is a file the tool writes whole: created at the start in the
// destination's directory under a temporary name (so that a directory that
// cannot be written fails the run before it writes anything), filled,
// synced, and renamed over the destination at the end. It never writes
// through a symlink, and is readable by its owner only.
type outFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func createOutFile(path string) (*outFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return &outFile{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// commit makes the file durable and puts it in place.
func (o *outFile) commit() error {
	err := o.w.Flush()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.f.Name(), o.path)
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// discard removes the unfinished file.
func (o *outFile) discard() {
	if o != nil {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// rejectsWriter encodes rejects in the rejects-file format of their input.
type rejectsWriter struct {
	w      io.Writer
	enc    *invoice.RejectEncoder
	layout invoice.Layout
	run    int64 // 0 for a dry run's rejects, which belong to no run
	n      int64
}

func newRejectsWriter(w io.Writer, l invoice.Layout, run int64) *rejectsWriter {
	return &rejectsWriter{w: w, enc: invoice.NewRejectEncoder(l), layout: l, run: run}
}

func (r *rejectsWriter) write(rj store.Reject) error {
	raw, err := r.layout.ParseRaw(rj.Raw)
	if err != nil {
		return fmt.Errorf("reject of line %d: %w", rj.Line, err)
	}
	if r.n == 0 {
		if _, err := r.w.Write(r.enc.Header()); err != nil {
			return err
		}
	}
	r.n++
	_, err = r.w.Write(r.enc.Encode(&invoice.Record{Line: int(rj.Line), Seq: rj.Record, Raw: raw}, r.run, rj.Reason))
	return err
}

// writeRunRejects writes every reject of a run to w, and says how many.
// They name their run, unless it is a dry run's, which will be rolled back.
func writeRunRejects(ctx context.Context, db *store.Store, run store.Run, dryRun bool, w io.Writer) (int64, error) {
	l, err := invoice.ParseLayout(run.Input.Format, run.Input.Delimiter, run.Input.Header, run.Input.Encoding)
	if err != nil {
		return 0, fmt.Errorf("run %d: %w", run.ID, err)
	}
	named := run.ID
	if dryRun {
		named = 0
	}
	rw := newRejectsWriter(w, l, named)
	err = db.EachReject(ctx, run, rw.write)
	return rw.n, err
}

// WriteRejects writes the rejects of a run, in its input's format and
// ready to be fixed and imported again, to path, or to stdout when path is
// empty. It says how many it wrote.
func WriteRejects(ctx context.Context, cfg store.Config, runID int64, path string, stdout io.Writer) (int64, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.CheckSchema(ctx); err != nil {
		return 0, err
	}
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return 0, err
	}
	if path == "" {
		bw := bufio.NewWriter(stdout)
		n, err := writeRunRejects(ctx, db, run, false, bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		return n, err
	}
	out, err := createOutFile(path)
	if err != nil {
		return 0, err
	}
	n, err := writeRunRejects(ctx, db, run, false, out.w)
	if err != nil {
		out.discard()
		return n, err
	}
	return n, out.commit()
}
