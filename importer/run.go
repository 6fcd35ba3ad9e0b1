package importer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// ErrMaxRejects ends a run that rejected more rows than --max-rejects.
var ErrMaxRejects = errors.New("too many rejected rows")

// Import imports one input as one run and returns its summary. It never
// returns an error: a failure is a summary with status failed and its error.
func Import(ctx context.Context, in Input, opts Options) Summary {
	opts.defaults()
	start := time.Now()
	sum := Summary{Source: in.Name, DryRun: opts.DryRun}
	if err := importInput(ctx, in, &opts, &sum); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			sum.Status = StatusInterrupted
		} else {
			sum.fail(err)
		}
	}
	sum.DurationSeconds = time.Since(start).Seconds()
	return sum
}

func importInput(ctx context.Context, in Input, opts *Options, sum *Summary) error {
	format := opts.Format
	if format == "" {
		f, ok := invoice.FormatOf(in.Name)
		if !ok {
			return fmt.Errorf("%s: cannot tell the format from the name; use --format csv|json|ndjson", in.Name)
		}
		format = f
	}
	key, unique, err := sourceKey(in, opts.SourceID)
	if err != nil {
		return err
	}
	sum.SourceKey = key
	if unique && opts.DryRun == Write {
		opts.Log.Warn("standard input without --source-id: this import cannot be resumed or recognised as a repeat", "source_key", key)
	}
	if opts.DryRun == Offline {
		return offline(ctx, in, opts, sum, format)
	}

	db, err := store.Open(ctx, opts.DB)
	if err != nil {
		if opts.DryRun == ReadOnly && store.IsTransient(err) && ctx.Err() == nil {
			opts.Log.Warn("no database reachable: validating the file alone", "error", err)
			sum.DryRun = Offline
			return offline(ctx, in, opts, sum, format)
		}
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	if err := checkRejectsPath(in, opts, format); err != nil {
		return err
	}
	if opts.DryRun != ReadOnly {
		// A read-only dry run takes no lock: it changes nothing.
		if err := lockSource(ctx, db, key); err != nil {
			return err
		}
	}
	if opts.DryRun != Write {
		if err := db.BeginOuter(ctx, opts.DryRun == ReadOnly); err != nil {
			return err
		}
		defer func() { _ = db.RollbackOuter(context.WithoutCancel(ctx)) }()
	}
	run, skipped, err := startRun(ctx, db, in, opts, key, format)
	if err != nil {
		return err
	}
	if run.ID != 0 && opts.DryRun == Write {
		sum.RunID = &run.ID
	}
	if skipped {
		// The counts of a skipped source are this invocation's: nothing.
		sum.Status = StatusSkipped
		sum.AlreadyImported = true
		opts.Log.Info("source already imported; skipping (use --force to import it again)", "source", in.Name, "run_id", run.ID)
		return nil
	}
	if run.Progress.Record > 0 {
		line := run.Progress.Line
		sum.ResumedFromLine = &line
		opts.Log.Info("resuming an unfinished run", "run_id", run.ID, "after_line", line)
	}

	w := newWriter(opts, db, run)
	err = w.importRecords(ctx, in, format)
	return w.end(ctx, err, sum)
}

// offline validates the file without a database.
func offline(ctx context.Context, in Input, opts *Options, sum *Summary, format invoice.Format) error {
	w := newWriter(opts, nil, store.Run{})
	err := w.importRecords(ctx, in, format)
	return w.end(ctx, err, sum)
}

func newWriter(opts *Options, db *store.Store, run store.Run) *writer {
	rejects := run.RejectsFile
	if opts.DryRun != Write {
		rejects = opts.RejectsPath // "" = count, write nowhere
		if rejects != "" {
			rejects = absPath(rejects)
		}
	}
	w := &writer{opts: opts, db: db, run: run, committed: run.Progress, rejects: &rejectsFile{path: rejects}}
	if opts.DryRun != Write {
		w.committed.RejectsBytes = 0 // a dry run's rejects file starts afresh
	}
	return w
}

// end decides the run's status from how it ended, records it, and fills the
// summary.
func (w *writer) end(ctx context.Context, err error, sum *Summary) error {
	defer w.rejects.close()
	status := StatusSuccess
	if w.committed.RowsRejected > 0 {
		status = StatusPartialSuccess
	}
	switch {
	case err == nil && ctx.Err() != nil:
		err = ctx.Err()
		status = StatusInterrupted
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		status = StatusInterrupted
	case err != nil:
		status = StatusFailed
	}
	// Whatever an unfinished chunk left in the rejects file is not part of
	// the run.
	if _, terr := w.rejects.write(w.committed.RejectsBytes, nil); terr != nil && err == nil {
		err, status = terr, StatusFailed
	}
	msg := ""
	if err != nil && status == StatusFailed {
		msg = err.Error()
	}
	if w.db != nil && w.opts.DryRun != ReadOnly {
		if ferr := w.finish(context.WithoutCancel(ctx), status, msg); ferr != nil {
			w.opts.Log.Warn("could not record the run's end; the next run will resume it", "run_id", w.run.ID, "error", ferr)
		}
	}
	fillCounts(sum, w.committed, w.rejects)
	sum.Status = status
	if status == StatusFailed {
		return err
	}
	if w.opts.MappingReport != "" && w.report != nil {
		if rerr := w.report.write(w.opts.MappingReport); rerr != nil {
			return rerr
		}
		p := w.opts.MappingReport
		sum.MappingReport = &p
	}
	return err
}

// startRun finds what to do with a source: skip it (already imported),
// resume its unfinished run, or start a new run. A read-only dry run only
// looks.
func startRun(ctx context.Context, db *store.Store, in Input, opts *Options, key string, format invoice.Format) (store.Run, bool, error) {
	last, ok, err := db.LastRun(ctx, key)
	if err != nil {
		return store.Run{}, false, err
	}
	if ok {
		switch last.Status {
		case store.StatusSuccess, store.StatusPartialSuccess:
			if !opts.Force {
				return last, true, nil
			}
		default:
			if opts.DryRun == ReadOnly {
				return store.Run{ID: last.ID, Progress: last.Progress, RejectsFile: last.RejectsFile}, false, nil
			}
			r, err := db.ResumeRun(ctx, last.ID)
			return r, false, err
		}
	}
	if opts.DryRun == ReadOnly {
		return store.Run{}, false, nil
	}
	rejects := opts.RejectsPath
	if rejects == "" {
		rejects = invoice.RejectsPath(in.Name, format)
	}
	name := in.Name
	if !in.IsStdin() {
		name = absPath(in.Name)
	}
	r, err := db.CreateRun(ctx, key, name, opts.Account, absPath(rejects))
	return r, false, err
}

func fillCounts(sum *Summary, p store.Progress, rejects *rejectsFile) {
	sum.RowsRead, sum.RowsImported, sum.RowsRejected = p.RowsRead, p.RowsImported, p.RowsRejected
	sum.ItemsCreated, sum.FuzzyMatches = p.ItemsCreated, p.FuzzyMatches
	sum.Chunks, sum.ChunksReplayed = p.Chunks, p.ChunksReplayed
	if p.RejectsBytes > 0 && rejects.path != "" {
		f := rejects.path
		sum.RejectsFile = &f
	}
}

// finish records the run's end, reconnecting once if the connection is gone.
func (w *writer) finish(ctx context.Context, status, msg string) error {
	err := w.db.FinishRun(ctx, w.run.ID, status, msg)
	if err != nil && store.IsTransient(err) {
		if rerr := w.db.Reconnect(ctx); rerr == nil {
			err = w.db.FinishRun(ctx, w.run.ID, status, msg)
		}
	}
	return err
}

// importRecords streams the input through the producer into chunks and
// commits them. A file is written in long transactions (stream) and, should
// one fail, read again from the checkpoint; standard input, dry runs and
// the careful mode after a refused stock update commit chunk by chunk,
// keeping each chunk until it is committed (consume).
func (w *writer) importRecords(ctx context.Context, in Input, format invoice.Format) error {
	size := int64(-1)
	if !in.IsStdin() {
		if st, err := os.Stat(in.Name); err == nil {
			size = st.Size()
		}
	}
	w.opts.Progress.Start(in.Name, size)
	defer w.opts.Progress.Finish()
	if w.opts.MappingReport != "" && w.db != nil {
		w.report = newMappingReport()
	}
	if w.db == nil || w.opts.DryRun != Write || in.IsStdin() {
		return w.pipeline(ctx, in, format, w.consume)
	}
	retry := &retrier{policy: w.opts.Retry}
	for {
		before := w.committed.Record
		err := w.pipeline(ctx, in, format, w.stream)
		var inputErr *inputError
		if err == nil || ctx.Err() != nil || errors.As(err, &inputErr) {
			return err
		}
		if _, terr := w.rejects.write(w.committed.RejectsBytes, nil); terr != nil {
			return terr
		}
		w.report.rollback()
		switch {
		case store.IsDataError(err):
			// The database refused a row, or a stock update: the rest of the
			// run goes chunk by chunk, where a refused chunk is replayed row
			// by row. (Going back to long transactions would mean reading the
			// file again from the start after every refused row.)
			w.opts.Log.Info("the database refused a row; going on chunk by chunk, replaying refused chunks row by row",
				"after_record", w.committed.Record, "sqlstate", store.SQLState(err), "error", err)
			return w.pipeline(ctx, in, format, w.consume)
		case !store.IsTransient(err) && !errors.Is(err, store.ErrCheckpointMoved):
			return err
		}
		if w.committed.Record > before {
			retry.reset()
		}
		if err := retry.wait(ctx, w.opts, err, "going on from the last checkpoint", "after_record", w.committed.Record); err != nil {
			return err
		}
		dbctx := context.WithoutCancel(ctx)
		if err := w.reconnect(dbctx); err != nil {
			w.opts.Log.Warn("reconnect failed", "error", err)
			continue
		}
		r, err := w.db.GetRun(dbctx, w.run.ID)
		if err != nil {
			continue
		}
		// A lost COMMIT may have happened after all: the database says
		// where the run is.
		w.committed = r.Progress
		if _, err := w.rejects.write(w.committed.RejectsBytes, nil); err != nil {
			return err
		}
	}
}

// pipeline opens the input, starts the producer from the checkpoint, and
// hands the chunks to consume.
func (w *writer) pipeline(ctx context.Context, in Input, format invoice.Format, consume func(context.Context, <-chan *chunk) error) error {
	rc, _, err := in.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	counter := &countingReader{r: rc}
	dec, err := invoice.NewDecoder(counter, invoice.Options{
		Format: format, Delimiter: w.opts.Delimiter, Columns: w.opts.Columns, Account: w.opts.Account,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	w.rejects.enc = invoice.NewRejectEncoder(dec)
	if err := w.rejects.resume(w.committed.RejectsBytes); err != nil {
		return err
	}
	p := &producer{
		opts: w.opts, dec: dec, counter: counter, skipUpTo: w.committed.Record,
		resolvers: map[string]*mapping.Resolver{}, ids: map[*mapping.Item]*int64{}, report: w.report,
	}
	switch {
	case w.db == nil: // offline: validation only
	case w.opts.DryRun == Write:
		p.load = w.loadResolver
	default:
		// Inside the dry run's single transaction, and the writer does not
		// use the connection while the producer runs.
		p.load = w.loadResolverFrom(w.db)
	}
	pctx, stop := context.WithCancel(ctx)
	chunks := make(chan *chunk, chunksAhead)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		p.run(pctx, chunks)
	}()
	defer func() {
		// The decoder is the producer's until it has stopped. A producer
		// blocked reading standard input cannot be stopped; the process is
		// about to end then, so it is left behind.
		stop()
		select {
		case <-produced:
			_ = dec.Close()
		case <-time.After(2 * time.Second):
		}
	}()
	if err := consume(ctx, chunks); err != nil {
		if ie, ok := err.(*inputError); ok {
			return &inputError{err: fmt.Errorf("%s: %w", in.Name, ie.err)}
		}
		return err
	}
	return ctx.Err()
}

// chunksAhead is how many chunks the producer may prepare ahead of the
// writer: enough to keep the database busy, few enough to bound memory.
const chunksAhead = 8

// consume commits chunks in order, joining those that are ready into one
// transaction, up to ChunksPerCommit.
func (w *writer) consume(ctx context.Context, chunks <-chan *chunk) error {
	for c := range chunks {
		for max(len(c.ends), 1) < min(w.opts.ChunksPerCommit, chunksAhead) && c.err == nil && !w.overRejects(c) {
			next, ok := tryReceive(chunks)
			if !ok {
				break
			}
			c.join(next)
		}
		if c.read > 0 {
			if err := w.commit(ctx, c); err != nil {
				return err
			}
			w.opts.Progress.Update(c.bytes, w.committed.RowsRead, w.committed.RowsRejected)
		}
		if err := w.afterChunk(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// afterChunk decides whether the run goes on after a chunk.
func (w *writer) afterChunk(ctx context.Context, c *chunk) error {
	var ce *catalogueError
	if errors.As(c.err, &ce) {
		return ce
	}
	if c.err != nil {
		return &inputError{err: c.err}
	}
	if w.opts.MaxRejects > 0 && w.committed.RowsRejected > w.opts.MaxRejects {
		return fmt.Errorf("%w: %d rejected, more than --max-rejects %d; stopped after line %d",
			ErrMaxRejects, w.committed.RowsRejected, w.opts.MaxRejects, w.committed.Line)
	}
	return ctx.Err()
}

// inputError is an input that cannot be read further: never retried.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// loadResolver loads an account's catalogue on a connection of its own (the
// run's connection may be busy with a chunk) and builds its resolver.
func (w *writer) loadResolver(ctx context.Context, account string) (*mapping.Resolver, error) {
	var r *mapping.Resolver
	var err error
	for attempt := 0; attempt <= 3; attempt++ {
		var db *store.Store
		if db, err = store.Open(ctx, w.opts.DB); err == nil {
			r, err = w.loadResolverFrom(db)(ctx, account)
			db.Close(context.WithoutCancel(ctx))
		}
		if err == nil || !store.IsTransient(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
	}
	return r, err
}

// loadResolverFrom loads catalogues through db.
func (w *writer) loadResolverFrom(db *store.Store) func(context.Context, string) (*mapping.Resolver, error) {
	return func(ctx context.Context, account string) (*mapping.Resolver, error) {
		items, maps, err := db.LoadCatalogue(ctx, account)
		if err != nil {
			return nil, err
		}
		mitems := make([]mapping.Item, len(items))
		for i, it := range items {
			mitems[i] = mapping.Item{ID: it.ID, Name: it.Name, Normalized: it.Normalized, Unit: it.Unit}
		}
		mmaps := make([]mapping.StoredMapping, len(maps))
		for i, m := range maps {
			mmaps[i] = mapping.StoredMapping{Vendor: m.Vendor, KeyKind: mapping.KeyKind(m.KeyKind), Key: m.Key,
				ItemID: m.ItemID, Method: mapping.Method(m.Method), Score: m.Score}
		}
		return mapping.NewResolver(mitems, mmaps, w.opts.resolverOptions()), nil
	}
}

// lockWait is how long a held source lock is waited for: long enough for the
// server to notice a holder that was just killed, short enough to be "at
// once" for a holder that is alive.
const lockWait = 1500 * time.Millisecond

// lockSource takes the source's lock, or fails with *store.LockedError.
func lockSource(ctx context.Context, db *store.Store, key string) error {
	deadline := time.Now().Add(lockWait)
	for {
		err := db.LockSource(ctx, key)
		var locked *store.LockedError
		if !errors.As(err, &locked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// checkRejectsPath refuses a rejects file that is the input itself: it is
// truncated when the run's first reject is written.
func checkRejectsPath(in Input, opts *Options, format invoice.Format) error {
	if in.IsStdin() {
		return nil
	}
	rejects := opts.RejectsPath
	if rejects == "" {
		rejects = invoice.RejectsPath(in.Name, format)
	}
	a, errA := os.Stat(in.Name)
	b, errB := os.Stat(rejects)
	if errA == nil && errB == nil && os.SameFile(a, b) {
		return fmt.Errorf("the rejects file %s is the input itself; choose another --rejects", rejects)
	}
	return nil
}

// tryReceive takes a chunk if one is ready.
func tryReceive(chunks <-chan *chunk) (*chunk, bool) {
	select {
	case c, ok := <-chunks:
		return c, ok
	default:
		return nil, false
	}
}

// overRejects says whether committing c would pass --max-rejects, so that
// no more chunks are joined to it.
func (w *writer) overRejects(c *chunk) bool {
	return w.opts.MaxRejects > 0 && w.committed.RowsRejected+int64(len(c.rejects)) > w.opts.MaxRejects
}
