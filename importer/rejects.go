package importer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/batchimport/batchimport/internal/regular"
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
// synced, and put in place at the end. It never writes through a symlink,
// is readable by its owner only, and never replaces a file the tool did
// not create for the run (SPEC §16): only a run's own rejects file, which
// ownRejectsPath reserved, is replaced.
type outFile struct {
	path    string
	f       *os.File
	w       *bufio.Writer
	replace bool // path is the run's own: replace what is there
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
	switch {
	case err == nil && o.replace:
		err = os.Rename(o.f.Name(), o.path)
	case err == nil:
		// A link fails where a file is, where a rename would replace it.
		if err = os.Link(o.f.Name(), o.path); errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s exists, and batchimport never overwrites a file it did not create for this run: remove it, or choose another name", o.path)
		}
		os.Remove(o.f.Name())
	}
	if err != nil {
		os.Remove(o.f.Name())
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// ownRejectsPath makes path the run's rejects file: the file a resumed run
// recorded is its own while it is as the run left it (empty, or what it
// wrote); otherwise the name is reserved by creating it, empty, so that no
// other run, and no file already there, shares it. A default path that is
// taken gives way to NAME-2.rejects.csv and so on (the rejects of may.csv
// and may.csv.gz, say); a path given with --rejects that is taken is
// refused.
func (r *runner) ownRejectsPath(ctx context.Context, path string) (string, error) {
	if r.run.ID != 0 && path == r.run.RejectsFile {
		// A resumed run: the temporary files of the attempt that was
		// killed go, and the name it reserved is its own again, unless
		// something else was put there since.
		removeTemps(path)
		if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() && (st.Size() == 0 || r.wrote(ctx, path)) {
			r.reserved = path
			return path, nil
		}
	}
	for n := 1; n <= maxRejectsNames; n++ {
		p := path
		if n > 1 {
			p = numbered(path, n)
		}
		// O_EXCL also refuses a symlink, even one that points nowhere.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			r.reserved = p
			return p, f.Close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("cannot write the rejects file: %w (name another with --rejects PATH)", err)
		}
		if p == r.revertedRejects && isEmptyFile(p) {
			// Reserved by the source's last run, killed before it wrote
			// it, then reverted: nothing is in it, and the name is free.
			r.reserved = p
			return p, nil
		}
		if r.opts.RejectsPath != "" {
			return "", fmt.Errorf("the rejects file %s exists, and batchimport never overwrites a file it did not create for the run: remove it, or choose another --rejects", p)
		}
	}
	return "", fmt.Errorf("no free name for the rejects file beside %s (tried %d)", path, maxRejectsNames)
}

// isEmptyFile says whether path is an empty regular file, as a rejects
// file is while its run has not written it.
func isEmptyFile(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() == 0
}

// removeTemps removes the temporary files of an attempt to write path
// that was killed (createOutFile).
func removeTemps(path string) {
	dir, base := filepath.Split(path)
	if tmps, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".*.tmp")); err == nil {
		for _, tmp := range tmps {
			os.Remove(tmp)
		}
	}
}

// wrote says whether the file at path is the rejects file the run wrote
// when it stopped (failed, interrupted): the rejects it has stored, as it
// writes them.
func (r *runner) wrote(ctx context.Context, path string) bool {
	f, _, err := regular.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	have, want := sha256.New(), sha256.New()
	if _, err := io.Copy(have, f); err != nil {
		return false
	}
	if _, err := writeRunRejects(ctx, r.db, r.run, false, want); err != nil {
		return false
	}
	return bytes.Equal(have.Sum(nil), want.Sum(nil))
}

// maxRejectsNames bounds the names tried: a file imported every day for
// years under one name, its rejects files left beside it, still finds one.
const maxRejectsNames = 100_000

// globEscape quotes what filepath.Glob reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\\`, r) {
			b.WriteRune('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// numbered puts -n before a rejects file's .rejects.EXT (or its extension):
// the name stays a rejects file's, which a drop folder never takes as input.
func numbered(path string, n int) string {
	dir, base := filepath.Split(path)
	i := strings.LastIndex(base, ".rejects.")
	if i < 0 {
		i = len(base) - len(filepath.Ext(base))
	}
	return dir + base[:i] + "-" + strconv.Itoa(n) + base[i:]
}

// unreserve removes the name reserved for a rejects file that was not
// written, if it is still the empty file that reserved it.
func (r *runner) unreserve() {
	if r.reserved == "" {
		return
	}
	if isEmptyFile(r.reserved) {
		os.Remove(r.reserved)
	}
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
	db, err := store.OpenSession(ctx, cfg)
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
