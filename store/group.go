package store

import (
	"context"

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
// in one COPY per part, each in a savepoint; a part the database refuses is
// replayed row by row and the rows refused then are reported, not written.
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
	refused, err := g.s.copyParts(ctx, g.tx, c, &out)
	if err != nil {
		return out, g.s.lost(err)
	}
	for i := range c.Rows {
		if refused[i] {
			continue
		}
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
