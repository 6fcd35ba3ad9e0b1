package store

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Group is one transaction that carries batches one after another and
// commits them together. A batch's rows go in as it comes, so none is kept
// in memory; the stock of them all is applied once, per item, at Commit,
// with the checkpoint. Long transactions spare the server what each one
// costs: an UPDATE and a row lock per item, a commit. There are no
// savepoints: a batch the database refuses a row of fails the whole group,
// which the caller rolls back and writes again, batch by batch, with
// WriteBatch.
type Group struct {
	s        *Store
	tx       pgx.Tx
	runID    int64
	owner    string
	from     int64 // the run's checkpoint when the group began
	stock    stockSums
	accounts []string
	seen     map[string]int64 // the latest batch's Seen, which holds the earlier ones'
}

// BeginGroup starts a group on the run's connection, at the checkpoint the
// first batch starts from.
func (s *Store) BeginGroup(ctx context.Context, first *Batch) (*Group, error) {
	if s.conn == nil {
		return nil, errNotConnected
	}
	tx, err := s.q().Begin(ctx)
	if err != nil {
		return nil, s.lost(err)
	}
	return &Group{s: s, tx: tx, runID: first.RunID, owner: first.Owner, from: first.From, stock: stockSums{}}, nil
}

// Write writes a batch into the group, as WriteBatch would, without
// committing. On an error the group is done for: roll it back.
func (g *Group) Write(ctx context.Context, b *Batch) (Outcome, error) {
	if err := g.s.lockSeen(ctx, g.tx, b.Seen); err != nil {
		return Outcome{}, g.s.lost(err)
	}
	w := newBatchWriter(g.s, b, g.stock)
	out, err := w.run(ctx, g.tx, false)
	if err != nil {
		return out, g.s.lost(err)
	}
	g.accounts = append(g.accounts, w.accounts()...)
	g.seen = b.Seen
	return out, nil
}

// Commit applies the stock, moves the checkpoint to p, which is refused
// (*FencedError) unless the group's owner still holds the run, and commits.
// On an error the group is rolled back.
func (g *Group) Commit(ctx context.Context, p Progress) error {
	slices.Sort(g.accounts)
	err := g.stock.apply(ctx, g.tx)
	if err == nil {
		err = g.s.fresh(ctx, g.tx, g.seen)
	}
	if err == nil {
		err = g.s.checkpoint(ctx, g.tx, g.runID, g.owner, g.from, p, slices.Compact(g.accounts))
	}
	if err == nil {
		err = g.tx.Commit(ctx)
	}
	if err != nil {
		g.Rollback(context.WithoutCancel(ctx))
	}
	return g.s.lost(err)
}

// Rollback abandons the group.
func (g *Group) Rollback(ctx context.Context) {
	_ = g.tx.Rollback(ctx)
}

// PID is the server process of the store's connection.
func (s *Store) PID() uint32 {
	if s.conn == nil {
		return 0
	}
	return s.conn.PgConn().PID()
}

// Blocks says whether the group's transaction holds up the server process
// pid, itself or through processes that wait for it: a client that then
// waits for pid, as a group waits for the one before it to commit, would
// wait for ever, and no server sees the cycle.
func (g *Group) Blocks(ctx context.Context, pid uint32) (bool, error) {
	var blocks bool
	err := g.tx.QueryRow(ctx, `WITH RECURSIVE b(pid) AS (
			SELECT unnest(pg_blocking_pids($1))
			UNION SELECT unnest(pg_blocking_pids(b.pid)) FROM b)
		SELECT pg_backend_pid() IN (SELECT pid FROM b)`, int32(pid)).Scan(&blocks)
	return blocks, g.s.lost(err)
}
