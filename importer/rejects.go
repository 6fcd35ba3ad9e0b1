package importer

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/batchimport/batchimport/invoice"
)

// reject is a record that will not be imported, with the reason.
type reject struct {
	rec    *invoice.Record
	reason string
}

// rejectsFile is the run's rejects file. It is created on the first reject,
// appended to on resume, and made durable (fsync) before the chunk that
// wrote to it commits; the committed length is stored with the checkpoint,
// and the file is cut back to it before anything else is written, so a
// rejected record appears in it exactly once across crashes and retries.
type rejectsFile struct {
	path string
	enc  *invoice.RejectEncoder
	f    *os.File
}

// AbsRejectsPath makes p absolute, so that a run resumed from another
// directory appends to the same file.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// write cuts the file back to committed bytes, appends the rejects and syncs.
// It returns the new length. Without a path (a dry run not asked for
// rejects) it only counts.
func (r *rejectsFile) write(committed int64, rejects []reject) (int64, error) {
	if r.path == "" {
		return committed + int64(len(rejects)), nil
	}
	if len(rejects) == 0 {
		if r.f != nil {
			if err := r.f.Truncate(committed); err != nil {
				return 0, fmt.Errorf("rejects file %s: %w", r.path, err)
			}
		}
		return committed, nil
	}
	if err := r.open(committed); err != nil {
		return 0, err
	}
	buf := []byte(nil)
	if committed == 0 {
		buf = append(buf, r.enc.Header()...)
	}
	for _, rj := range rejects {
		buf = append(buf, r.enc.Encode(rj.rec, rj.reason)...)
	}
	if _, err := r.f.WriteAt(buf, committed); err != nil {
		return 0, fmt.Errorf("rejects file %s: %w", r.path, err)
	}
	size := committed + int64(len(buf))
	if err := r.f.Truncate(size); err != nil {
		return 0, fmt.Errorf("rejects file %s: %w", r.path, err)
	}
	if err := r.f.Sync(); err != nil {
		return 0, fmt.Errorf("rejects file %s: fsync: %w", r.path, err)
	}
	return size, nil
}

// open opens the file for a run whose committed length is committed: a new
// run (0) starts it afresh; a resumed run checks that what it wrote is still
// there.
func (r *rejectsFile) open(committed int64) error {
	if r.f != nil {
		return nil
	}
	flags := os.O_RDWR | os.O_CREATE
	if committed == 0 {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(r.path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("rejects file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("rejects file: %w", err)
	}
	if st.Size() < committed {
		f.Close()
		return fmt.Errorf("rejects file %s holds %d bytes, but the run recorded %d: it was changed or replaced since; restore it or import with --force",
			r.path, st.Size(), committed)
	}
	r.f = f
	return nil
}

// resume checks the file of a resumed run and cuts off what an unfinished
// chunk wrote.
func (r *rejectsFile) resume(committed int64) error {
	if committed == 0 || r.path == "" {
		return nil
	}
	if err := r.open(committed); err != nil {
		return err
	}
	return r.f.Truncate(committed)
}

func (r *rejectsFile) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
