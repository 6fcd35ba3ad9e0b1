package importer

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/batchimport/batchimport/store"
)

// maxGroupAge bounds how long a transaction of stream stays open: a crash
// loses at most this much work, and concurrent imports wait at most this
// long for a stock row.
const maxGroupAge = time.Second

// stream writes chunks in long transactions: each chunk's rows in a COPY of
// their own, inside a transaction that takes chunks as they come and commits
// every second (or every ChunksPerCommit chunks, at the end of the input, on
// a signal, or when --max-rejects is passed). Each item's stock is then
// updated once per transaction, not once per chunk, which is most of what
// the database does besides the COPY. Chunks are not kept once written: if
// the transaction fails, the caller reads the input again from the
// checkpoint. Rejected records are appended to the rejects file as they
// come and made durable before each chunk's COPY result counts.
func (w *writer) stream(ctx context.Context, chunks <-chan *chunk) error {
	dbctx := context.WithoutCancel(ctx)
	var g *store.Group
	var opened time.Time
	inGroup := 0
	pending := w.committed // progress including the open transaction
	commit := func() error {
		if g == nil {
			return nil
		}
		err := g.Commit(dbctx, w.committed.Record, pending)
		g, inGroup = nil, 0
		if err != nil {
			return err
		}
		w.committed = pending
		w.report.commit()
		return nil
	}
	fail := func(err error) error {
		if g != nil {
			g.Rollback(dbctx)
		}
		return err
	}
	for c := range chunks {
		if c.read > 0 {
			if g == nil {
				var err error
				if g, err = w.db.BeginGroup(dbctx, w.run.ID); err != nil {
					return err
				}
				opened = time.Now()
			}
			out, err := g.Write(dbctx, &store.Chunk{RunID: w.run.ID, Items: c.items, Mappings: c.mappings, Rows: c.rows})
			if err != nil {
				return fail(err)
			}
			rejects := slices.Clone(c.rejects)
			for _, re := range out.Rejected {
				rejects = append(rejects, reject{rec: c.recs[re.Index], reason: dbReason(re.Err)})
			}
			slices.SortFunc(rejects, func(a, b reject) int { return cmp.Compare(a.rec.Seq, b.rec.Seq) })
			size, err := w.rejects.write(pending.RejectsBytes, rejects)
			if err != nil {
				return fail(err)
			}
			pending.Line, pending.Record = c.last, c.lastSeq
			pending.RowsRead += c.read
			pending.RowsImported += int64(len(c.rows) - len(out.Rejected))
			pending.RowsRejected += int64(len(rejects))
			pending.ItemsCreated += int64(out.ItemsCreated)
			pending.FuzzyMatches += c.fuzzy
			pending.Chunks++
			pending.ChunksReplayed += int64(out.Replayed)
			pending.RejectsBytes = size
			inGroup++
			w.opts.Progress.Update(c.bytes, pending.RowsRead, pending.RowsRejected)
		}
		over := w.opts.MaxRejects > 0 && pending.RowsRejected > w.opts.MaxRejects
		if c.err != nil || over || ctx.Err() != nil || inGroup >= w.opts.ChunksPerCommit || time.Since(opened) >= maxGroupAge {
			if err := commit(); err != nil {
				return fail(err)
			}
		}
		if err := w.afterChunk(ctx, c); err != nil {
			return fail(err)
		}
	}
	return fail(commit())
}
