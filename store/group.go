package store

import (
	"bytes"
	"context"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Group is a transaction that takes chunks one after another, as they come,
// and commits them together: each chunk's rows go in a COPY of their own,
// while each item's stock is updated once, at Commit, for all of them. Only
// the running sums per item are kept, not the rows, so a group can be as
// long as the caller likes.
type Group struct {
	s      *Store
	tx     pgx.Tx
	runID  int64
	deltas map[deltaKey]decimal.Decimal
}

type deltaKey struct {
	account string
	id      int64
}

// BeginGroup starts a group transaction for a run.
func (s *Store) BeginGroup(ctx context.Context, runID int64) (*Group, error) {
	if s.conn == nil {
		return nil, errNotConnected
	}
	tx, err := s.q().Begin(ctx)
	if err != nil {
		return nil, s.lost(err)
	}
	return &Group{s: s, tx: tx, runID: runID, deltas: map[deltaKey]decimal.Decimal{}}, nil
}

// Write adds a chunk to the group: its new items and mappings, then its rows
// in one COPY. There is no savepoint: a savepoint is a subtransaction, and
// the foreign-key checks of every subtransaction lock the same item rows
// again, as multixacts, which cost the server more than a third of what
// the COPY does. So a row the database refuses aborts the group
// (IsDataError), and the caller writes those chunks again with WriteChunk.
func (g *Group) Write(ctx context.Context, c *Chunk) (Outcome, error) {
	var out Outcome
	created, err := g.s.insertItems(ctx, g.tx, c.Items)
	if err != nil {
		return out, g.s.lost(err)
	}
	out.ItemsCreated = created
	if err := g.s.insertMappings(ctx, g.tx, c.Mappings); err != nil {
		return out, g.s.lost(err)
	}
	if err := g.s.copyRows(ctx, g.tx, c.RunID, c.Rows); err != nil {
		return out, g.s.lost(err)
	}
	for i := range c.Rows {
		r := &c.Rows[i]
		k := deltaKey{r.Account, *r.ItemID}
		g.deltas[k] = g.deltas[k].Add(r.Quantity)
	}
	return out, nil
}

// Commit applies the stock changes, aggregated per item in (account, id)
// order, records the run's progress (if the checkpoint is still at from),
// and commits; on failure the group is rolled back.
func (g *Group) Commit(ctx context.Context, from int64, p Progress) error {
	err := g.s.updateStock(ctx, g.tx, g.deltas)
	if err == nil {
		err = g.s.checkpoint(ctx, g.tx, g.runID, from, p)
	}
	if err != nil {
		g.Rollback(context.WithoutCancel(ctx))
		return g.s.lost(err)
	}
	return g.s.lost(g.tx.Commit(ctx))
}

// Rollback abandons the group.
func (g *Group) Rollback(ctx context.Context) {
	_ = g.tx.Rollback(ctx)
}

// writeParts is Write with a savepoint per part, so that a refused part is
// replayed row by row and the rest of the group stands.
func (g *Group) writeParts(ctx context.Context, c *Chunk, out *Outcome) error {
	created, err := g.s.insertItems(ctx, g.tx, c.Items)
	if err != nil {
		return err
	}
	out.ItemsCreated = created
	if err := g.s.insertMappings(ctx, g.tx, c.Mappings); err != nil {
		return err
	}
	refused, err := g.s.copyParts(ctx, g.tx, c, out)
	if err != nil {
		return err
	}
	for i := range c.Rows {
		if refused[i] {
			continue
		}
		r := &c.Rows[i]
		k := deltaKey{r.Account, *r.ItemID}
		g.deltas[k] = g.deltas[k].Add(r.Quantity)
	}
	return nil
}

// Stream sends rows into one COPY for as long as next gives them: next is
// called for each chunk's rows, from another goroutine, and ends the COPY
// by returning false. The stock changes of the rows sent are added to the
// group. One COPY for many chunks spares the server a statement per chunk.
// A row the database refuses aborts the group (IsDataError).
func (g *Group) Stream(ctx context.Context, next func() ([]Row, bool)) error {
	r := &rowReader{g: g, next: next}
	_, err := g.tx.Conn().PgConn().CopyFrom(ctx, r, `COPY transactions (`+transactionColumns+`) FROM STDIN`)
	return g.s.lost(err)
}

// rowReader encodes the rows next gives in COPY's text format, a chunk at a
// time, as the COPY reads them.
type rowReader struct {
	g    *Group
	next func() ([]Row, bool)
	buf  bytes.Buffer
	done bool
}

func (r *rowReader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 {
		if r.done {
			return 0, io.EOF
		}
		rows, ok := r.next()
		if !ok {
			r.done = true
			continue
		}
		for i := range rows {
			appendCopyRow(&r.buf, r.g.runID, &rows[i])
			k := deltaKey{rows[i].Account, *rows[i].ItemID}
			r.g.deltas[k] = r.g.deltas[k].Add(rows[i].Quantity)
		}
	}
	return r.buf.Read(p)
}
