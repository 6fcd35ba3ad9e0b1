package importer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// Import imports one input as one run and returns its summary. It never
// returns an error: a failure is a summary with status failed and its
// error, typed, in Summary.Err.
func Import(ctx context.Context, in Input, opts Options) Summary {
	opts.defaults()
	start := time.Now()
	sum := Summary{Source: in.Name, DryRun: opts.DryRun}
	err := importInput(ctx, in, &opts, &sum)
	sum.end(ctx, err)
	if sum.DryRun == ReadOnly && opts.Earlier != nil && sum.Status.Done() && !sum.AlreadyImported {
		opts.Earlier.imported(sum.SourceKey, opts.Account, in.Name) // an input after it with the same bytes is skipped
	}
	sum.DurationSeconds = time.Since(start).Seconds()
	return sum
}

// runner is one run of one input, from its claim to its end.
type runner struct {
	opts   *Options
	src    *source
	format invoice.Format
	key    string
	db     *store.Store // nil: offline
	mu     sync.Mutex   // a dry run's stages share its connection
	run    store.Run    // ID 0: no run (offline, or a read-only dry run of a new source)
	// supersede is the source's last run, all of whose records were
	// rejected: the new run takes its place.
	supersede int64
	sum       *Summary
	// seen maps each account whose catalogue was loaded to its latest
	// correction then; every commit checks that none came since.
	seenMu sync.Mutex
	seen   map[string]int64
	// catalogueDB is the connection catalogues are loaded on while the
	// run's own writes (loadFresh).
	catalogueMu sync.Mutex
	catalogueDB *store.Store
	// rejectsFile is the run's rejects file, and reserved the name this
	// run created for it (ownRejectsPath).
	rejectsFile, reserved string
	// revertedRejects is the rejects file of the source's last run when
	// that run was reverted, which the new run may take over.
	revertedRejects string
}

// partOf names the part of a file the options read, when it is not the
// whole: a sheet of a workbook, the records at a path of a JSON document.
// Each is a source of its own, keyed apart: another sheet of a workbook
// imported before is no repeat of it.
func partOf(format invoice.Format, opts *Options) string {
	switch {
	case format == invoice.XLSX && opts.Sheet != "":
		return "sheet=" + strings.ToLower(opts.Sheet)
	case format == invoice.JSON && len(opts.Records) > 0:
		return "records=" + strings.Join(opts.Records, ".")
	}
	return ""
}

// recentWrite is how recently a file whose last line has no line end was
// modified for the run to warn that it may still be being written.
const recentWrite = time.Minute

func importInput(ctx context.Context, in Input, opts *Options, sum *Summary) error {
	format := opts.Format
	if format == "" {
		f, ok := invoice.FormatOf(in.Name)
		if !ok {
			return fmt.Errorf("%s: cannot tell the format from the name; use --format csv|json|ndjson|xlsx", in.Name)
		}
		format = f
	}
	src, err := openSource(in, opts.MinAge)
	if src != nil && src.f != nil {
		sum.Opened = src.stat
	}
	if err != nil {
		if d, ok := err.(*deferredError); ok && d.age < -time.Minute {
			// Never quietly: such a file would wait until its date.
			opts.Log.Warn("not importing now", "source", in.Name, "reason", err)
		} else if ok {
			opts.Log.Info("not importing now", "source", in.Name, "reason", err)
		}
		return err
	}
	defer src.close()
	if src.f != nil {
		if err := src.hash(); err != nil {
			return err
		}
		if age := time.Since(src.stat.ModTime()); src.endsOpen && age < recentWrite && (format == invoice.CSV || format == invoice.NDJSON) {
			opts.Log.Warn("the file's last line has no line end, and the file was modified moments ago: if it was still being written, "+
				"its last record may be cut short (--min-age leaves files that new for a later run)", "source", in.Name, "modified_ago", age.Round(time.Millisecond))
		}
	}
	key, unique := src.key(opts.SourceID, partOf(format, opts))
	sum.SourceKey = key
	if unique && opts.DryRun == Write {
		opts.Log.Warn("standard input without --source-id: this import cannot be resumed or recognised as a repeat", "source_key", key)
	}
	if src.f == nil {
		opts.Writers = 1 // standard input is read once: one writer
	}
	r := &runner{opts: opts, src: src, format: format, key: key, sum: sum}
	if opts.DryRun == Offline {
		return r.importRecords(ctx)
	}
	// A server that is restarting, or a connection lost while the run is
	// being claimed, is waited for as a lost commit is (retry.go). Standard
	// input is not: claiming may have read it.
	retry := &retrier{policy: opts.Retry, log: opts.Log}
	reach := cmp.Or(opts.Reach, &Reach{})
	for {
		done, opened, err := r.open(ctx)
		if err == nil {
			reach.gaveUp = false
			if done {
				r.close(ctx)
				return nil
			}
			break
		}
		if !opened && opts.DryRun == ReadOnly && store.IsTransient(err) && ctx.Err() == nil {
			opts.Log.Warn("no database reachable: validating the file alone", "error", err)
			sum.DryRun = Offline
			return r.importRecords(ctx)
		}
		if !store.IsTransient(err) || store.NoSuchHost(err) || reach.gaveUp || opts.DryRun != Write || src.f == nil && opened || ctx.Err() != nil {
			return err
		}
		if err := retry.wait(ctx, err, "source", in.Name); err != nil {
			reach.gaveUp = true
			return err
		}
	}
	defer r.close(ctx)
	return r.importRecords(ctx)
}

// open connects and claims the source (claim). On an error it closes what
// it opened; opened says whether the database was reached.
func (r *runner) open(ctx context.Context) (done, opened bool, err error) {
	db, err := store.Open(ctx, r.opts.DB)
	if err != nil {
		return false, false, err
	}
	r.db = db
	defer func() {
		if err != nil {
			r.close(ctx)
		}
	}()
	if err := r.checkSession(ctx); err != nil {
		return false, true, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		return false, true, err
	}
	if err := db.CheckKeys(ctx, mapping.Version()); err != nil {
		return false, true, err
	}
	if r.opts.DryRun != Write {
		if err := db.BeginOuter(ctx, r.opts.DryRun == ReadOnly); err != nil {
			return false, true, err
		}
	}
	done, err = r.claim(ctx)
	return done, true, err
}

// close ends what open began: a dry run's transaction, the connections.
func (r *runner) close(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if r.opts.DryRun != Write {
		_ = r.db.RollbackOuter(ctx)
	}
	r.closeCatalogueConn(ctx)
	r.db.Close(ctx)
}

// importRecords runs the stages: the producer decodes and resolves on a
// goroutine of its own; the writer commits through the sink chosen here.
func (r *runner) importRecords(ctx context.Context) error {
	var out *outFile
	if path := r.rejectsPath(); path != "" {
		if err := r.notTheInput(path); err != nil {
			return err
		}
		path, err := r.ownRejectsPath(ctx, path)
		if err != nil {
			return err
		}
		r.rejectsFile = path
		defer r.unreserve() // unless a rejects file was written there
		if out, err = createOutFile(path); err != nil {
			return err
		}
		out.replace = true
		defer out.discard()
	}
	dec, in, err := r.decoder(r.run.Progress)
	if err != nil {
		return r.refused(ctx, out, err)
	}
	layout := invoice.LayoutOf(dec)
	if err := r.start(ctx, layout); err != nil {
		dec.Close()
		return err
	}
	w := &writer{src: r.src, layout: layout, run: r.run, committed: r.run.Progress, written: r.run.Progress,
		perBatch: r.opts.chunksPerBatch(), chunkRows: r.opts.ChunkSize, maxRejects: r.opts.MaxRejects, force: r.opts.Force, progress: r.opts.Progress,
		seen: r.seenSoFar, spare: make(spare, r.opts.chunksPerBatch())}
	if r.opts.DryRun == ReadOnly || r.opts.DryRun == Offline {
		w.rules = map[string]int64{} // no rejects stored to count them (finish)
	}
	load, stop, err := r.chooseSink(ctx, w, out, layout)
	if err != nil {
		dec.Close()
		return r.finish(ctx, w, out, err)
	}
	defer stop()
	r.opts.Progress.Start(r.src.in.Name, r.src.size())
	for {
		p := &producer{dec: dec, in: in, src: r.src, skipUpTo: w.committed.Record, chunkSize: r.opts.ChunkSize, spare: w.spare}
		if load != nil {
			// Items created through the checkpoint count against
			// --max-new-items: a resumed run creates no more than one
			// that ran through.
			p.resolver = newResolver(load, r.opts.resolverOptions(w.committed.ItemsCreated), r.opts.MappingReport != "")
			p.resolver.maxNewItems = r.opts.MaxNewItems
		}
		err = r.pipeline(ctx, p, w)
		var rw *rewindError
		if !errors.As(err, &rw) {
			break
		}
		if ctx.Err() != nil {
			// Interrupted while going back: the run stops at its checkpoint.
			w.committed, w.written, w.pending = rw.to, rw.to, nil
			err = ctx.Err()
			break
		}
		// The input is read again from its start, and what the checkpoint
		// covers skipped: the catalogue is loaded afresh, as the database
		// holds it at the checkpoint.
		r.opts.Log.Info("reading the input again from the checkpoint", "after_line", rw.to.Line)
		w.committed, w.written, w.pending = rw.to, rw.to, nil
		if dec, in, err = r.decoder(rw.to); err != nil {
			break
		}
	}
	r.opts.Progress.Finish()
	return r.finish(ctx, w, out, err)
}

// refused records a run of an input refused before its first record (no
// header, a damaged workbook), failed, so that status shows it and a drop
// folder moves it away; the error is returned either way.
func (r *runner) refused(ctx context.Context, out *outFile, err error) error {
	var input *InputError
	if !errors.As(err, &input) || r.db == nil || r.opts.DryRun != Write {
		return err
	}
	layout := invoice.Layout{Format: r.format, Delimiter: r.delimiter()}
	if serr := r.start(ctx, layout); serr != nil {
		return err
	}
	return r.finish(ctx, &writer{run: r.run, committed: r.run.Progress, written: r.run.Progress}, out, err)
}

// delimiter is the CSV delimiter of the input: --delimiter, else what its
// name says, else a comma.
func (r *runner) delimiter() rune {
	return cmp.Or(r.givenDelimiter(), ',')
}

// givenDelimiter is the delimiter --delimiter or the input's name (.tsv)
// gives; 0 leaves it to the input (Excel's "sep=;" line), else a comma.
func (r *runner) givenDelimiter() rune {
	return cmp.Or(r.opts.Delimiter, invoice.DelimiterOf(r.src.in.Name))
}

// decoder opens the input for reading from its start, checking that the
// bytes the progress p covers are the ones it was made from.
func (r *runner) decoder(p store.Progress) (invoice.Decoder, *hashingReader, error) {
	in := r.src.reader()
	in.expect(p.Bytes, p.Digest, &ReusedSourceError{SourceID: r.key, RunID: r.run.ID,
		Was: fmt.Sprintf("its first %d bytes", p.Bytes), Now: "other bytes"})
	dec, err := invoice.NewDecoder(in, invoice.Options{
		Format: r.format, Delimiter: r.givenDelimiter(), Columns: r.opts.Columns, Account: r.opts.Account,
		AllowAccounts: r.opts.AllowAccounts, AnyAccount: r.opts.AnyAccount, MaxRecordBytes: r.opts.MaxRecordBytes,
		Set: r.opts.Set, SkipLines: r.opts.SkipLines, Values: r.opts.Values, Encoding: r.opts.Encoding,
		SkipNonLines: r.opts.SkipNonLines, Records: r.opts.Records, Sheet: r.opts.Sheet,
	})
	if err != nil {
		return nil, nil, &InputError{Name: r.src.in.Name, Err: err}
	}
	return dec, in, nil
}

// pipeline runs the producer and the writer until the writer stops.
func (r *runner) pipeline(ctx context.Context, p *producer, w *writer) error {
	pctx, stop := context.WithCancel(ctx)
	chunks := make(chan *chunk, r.opts.chunksPerBatch())
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		p.run(pctx, chunks)
	}()
	err := w.write(ctx, chunks)
	// The decoder is the producer's until it has stopped. A producer
	// blocked reading standard input cannot be stopped; the process is
	// about to end then, so it is left behind.
	stop()
	select {
	case <-produced:
		_ = p.dec.Close()
	case <-time.After(2 * time.Second):
	}
	return err
}

// rejectsTo is where a dry run writes its rejects as they come: nowhere
// unless a rejects file was asked for.
func (r *runner) rejectsTo(out *outFile, l invoice.Layout) *rejectsWriter {
	if out == nil {
		return nil
	}
	return newRejectsWriter(out.w, l, 0)
}

// notTheInput refuses a rejects file that is the input itself.
func (r *runner) notTheInput(path string) error {
	if r.src.f == nil {
		return nil
	}
	if st, err := os.Stat(path); err == nil && os.SameFile(st, r.src.stat) {
		return fmt.Errorf("the rejects file %s is the input itself; choose another --rejects", path)
	}
	return nil
}
