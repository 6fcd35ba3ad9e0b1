package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// LineKeys key lines as resolving keys the mappings it stores: a revert
// keeps the mappings other runs' lines resolved through.
var LineKeys = store.LineKeys{Vendor: mapping.NormalizeVendor, Description: mapping.DescriptionKey}

// finish ends the run: it decides and records its status (reverting it
// when it must not stay), writes its rejects file and mapping report, and
// fills the summary. It returns the error that ends the run, if any.
func (r *runner) finish(ctx context.Context, w *writer, out *outFile, err error) error {
	r.sum.setCounts(w.committed)
	if errors.Is(err, ErrMaxRejects) {
		err = w.tooManyRejects()
	}
	dbctx := context.WithoutCancel(ctx)
	if r.run.ID != 0 && r.opts.DryRun != ReadOnly {
		var fenced *store.FencedError
		var locked *store.LockedError
		if errors.As(err, &fenced) || errors.As(err, &locked) {
			return err // the run is another process's now: not a word more to it
		}
		err = r.record(ctx, w, err)
	} else if p := w.committed; err == nil && allRejected(p) {
		// A dry run that writes no run says what the import would.
		rule, n := w.commonestRule()
		err = &AllRejectedError{Rejected: p.RowsRejected, Rule: rule, Count: n}
	}
	if r.opts.DryRun == ReadOnly && r.opts.Earlier != nil && reverts(err, w.committed) {
		r.opts.Earlier.forget(r.src.in.Name) // its run would be reverted
	}
	if errors.As(err, new(*store.FencedError)) {
		return err
	}
	if out != nil && w.committed.RowsRejected > 0 {
		if werr := r.writeRejects(dbctx, out); werr != nil {
			r.opts.Log.Warn("could not write the rejects file", "path", out.path, "run_id", r.run.ID, "error", werr)
			if err == nil {
				err = werr
			}
		} else {
			r.sum.RejectsFile = &out.path
		}
	}
	if err == nil && r.opts.MappingReport != "" && r.db != nil {
		if err = writeFile(r.opts.MappingReport, func(o *outFile) error { return writeReport(o.w, w.report) }); err == nil {
			r.sum.MappingReport = &r.opts.MappingReport
		}
	}
	return err
}

// allRejected says whether every record of the run that is an invoice
// line was rejected.
func allRejected(p store.Progress) bool {
	return p.RowsRejected > 0 && p.RowsRejected == p.RowsRead-p.RowsSkipped
}

// reverts says whether a run that ends with err may keep nothing of what
// it committed, c: --max-rejects passed, the file changed, or its bytes
// broke off after its first records (a JSON array with a syntax error, a
// gzip stream cut short). Such a file can never be read to its end as it
// is, and mended or complete, it is another source, whose invoices a run
// that kept its first records would hold.
func reverts(err error, c store.Progress) bool {
	var input *InputError
	return errors.Is(err, ErrMaxRejects) || errors.As(err, new(*ChangedError)) ||
		errors.As(err, &input) && input.Midway && errors.As(err, new(*invoice.FatalError)) && c.Record > 0
}

// record stores how the run ended: reverted when nothing of it may stay
// (reverts), rejected when every record was rejected, else its status. A
// failure to record it is logged: the next run resumes it.
func (r *runner) record(ctx context.Context, w *writer, err error) error {
	dbctx := context.WithoutCancel(ctx)
	if reverts(err, w.committed) {
		why := err.Error()
		var reverted store.Reverted
		rerr := r.retryOnce(dbctx, func() (err error) {
			reverted, err = r.db.RevertRun(dbctx, r.run.ID, r.run.Owner, why, LineKeys)
			return err
		})
		var home *store.CameHomeError
		switch {
		case errors.As(rerr, &home):
			// Never to be reverted as it stands: it ends failed, saying why.
			err = fmt.Errorf("%w; %v", err, rerr)
		case rerr != nil:
			r.opts.Log.Warn("could not revert the run", "run_id", r.run.ID, "error", rerr)
			return err
		default:
			r.sum.Reverted = true
			if reverted.CatalogueKept {
				r.opts.Log.Warn("the items and mappings the run created are kept: another import of the account was running, which may use them",
					"run_id", r.run.ID)
			}
			if errors.As(err, new(*invoice.FatalError)) {
				err = &brokenError{err}
			}
			return err
		}
	}
	p := w.committed
	status, msg := store.StatusSuccess, ""
	switch {
	case err == nil && allRejected(p):
		rule, n, qerr := r.db.CommonestRule(dbctx, r.run)
		if qerr != nil {
			rule = qerr.Error()
		}
		err = &AllRejectedError{Rejected: p.RowsRejected, Rule: rule, Count: n}
		status, msg = store.StatusRejected, err.Error()
	case err == nil && p.RowsRejected > 0:
		status = store.StatusPartialSuccess
	case err == nil && ctx.Err() != nil, errors.Is(err, context.Canceled) && ctx.Err() != nil:
		status = store.StatusInterrupted
	case err != nil:
		status, msg = store.StatusFailed, err.Error()
	}
	content := r.src.content
	if content.SHA256 == "" && err == nil {
		content = r.src.readContent() // standard input, read to its end
	}
	var created int64
	ferr := r.retryOnce(dbctx, func() error {
		var err error
		created, err = r.db.FinishRun(dbctx, r.run.ID, r.run.Owner, status, msg, content)
		return err
	})
	if ferr == nil && (status.Done() || status == store.StatusRejected) {
		r.sum.ItemsCreated = created // less the items the run's end dropped
	}
	if ferr != nil {
		r.opts.Log.Warn("could not record the run's end; the next run will resume it", "run_id", r.run.ID, "error", ferr)
		if errors.As(ferr, new(*store.FencedError)) {
			return ferr
		}
	}
	return err
}

// retryOnce runs f, and once more on a new connection holding the source's
// lock if the connection was lost.
func (r *runner) retryOnce(ctx context.Context, f func() error) error {
	err := f()
	if !store.IsTransient(err) || r.opts.DryRun != Write {
		return err
	}
	if err := r.db.Reconnect(ctx); err != nil {
		return err
	}
	if err := lockSource(ctx, r.db, r.key); err != nil {
		return err
	}
	return f()
}

// writeRejects fills the rejects file: from the database, where the run
// stored its rejects (a dry run's went to it as they came).
func (r *runner) writeRejects(ctx context.Context, out *outFile) error {
	if r.run.ID != 0 && r.opts.DryRun != ReadOnly {
		err := r.retryOnce(ctx, func() error {
			if _, err := out.f.Seek(0, 0); err != nil {
				return err
			}
			if err := out.f.Truncate(0); err != nil {
				return err
			}
			out.w.Reset(out.f)
			_, err := writeRunRejects(ctx, r.db, r.run, r.opts.DryRun != Write, out.w)
			return err
		})
		if err != nil {
			return err
		}
	}
	return out.commit()
}

// writeFile writes a file whole through fill.
func writeFile(path string, fill func(*outFile) error) error {
	out, err := createOutFile(path)
	if err != nil {
		return err
	}
	if err := fill(out); err != nil {
		out.discard()
		return err
	}
	return out.commit()
}
