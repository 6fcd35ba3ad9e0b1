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
// costs: an UPDATE and a row lock per item, a commit. Each batch is
// written in a savepoint, so that a row the database refuses costs its
// batch a replay, not the group; only a stock that overflows at Commit
// fails the group, which the caller then writes again, batch by batch,
// with WriteBatch.
type Group struct {
	s        *Store
	tx       pgx.Tx
	runID    int64
	owner    string
	from     int64 // the run's checkpoint when the group began
	stock    stockSums
	accounts []string
	seen     map[string]int64 // the batches' Seen, the earliest correction of each account
}

// see adds a batch's Seen to the group's: for each account, the earliest
// correction any batch saw (batches may come out of order: rows held back
// are written last).
func (g *Group) see(seen map[string]int64) {
	if g.seen == nil {
		g.seen = map[string]int64{}
	}
	for a, id := range seen {
		if was, ok := g.seen[a]; !ok || id < was {
			g.seen[a] = id
		}
	}
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
	// The group's sums are the last group's map, as large as it grew.
	stock := s.groupStock
	if s.groupStock = nil; stock == nil {
		stock = stockSums{}
	}
	clear(stock)
	return &Group{s: s, tx: tx, runID: first.RunID, owner: first.Owner, from: first.From, stock: stock}, nil
}

// Write writes a batch into the group, as WriteBatch would, without
// committing. The batch is written in a savepoint: should the database
// refuse a row, the batch alone is rolled back and written again
// carefully (as WriteBatch does), its refused rows set apart, and the
// group goes on; so is the batch after it. A batch written carefully with
// no row refused, of ReplayPiece rows or more, sends the next one whole
// again. On any other error the group is done for: roll it back.
func (g *Group) Write(ctx context.Context, b *Batch) (Outcome, error) {
	if err := g.s.lockSeen(ctx, g.tx, b.Seen); err != nil {
		return Outcome{}, g.s.lost(err)
	}
	// After a batch with refused rows, the next is written carefully at
	// once: where one row is refused, others often are, and a batch
	// written whole first costs all rows before its first refused one.
	var careful *refusal
	if g.s.refusing {
		careful = &refusal{row: -1}
	}
	out, w, err := g.write(ctx, b, careful)
	if IsRowError(err) && careful == nil {
		out, w, err = g.write(ctx, b, w.refusal(err))
	}
	if err != nil {
		return out, g.s.lost(err)
	}
	// A batch with no row refused says the refusals are over only when it
	// had rows enough to say so: the few rows a group holds back to its
	// end (importer's split) say nothing, and the batch after them, sent
	// whole, cost all its rows again.
	if refused := w.refusedByDatabase(); refused || len(b.Rows) >= ReplayPiece {
		g.s.refusing = refused
	}
	g.stock.merge(w.stock)
	g.s.spareStock = w.stock
	g.accounts = append(g.accounts, w.accounts()...)
	g.see(b.Seen)
	return out, nil
}

// write is one attempt at a batch, in a savepoint of the group's
// transaction, rolled back on an error.
func (g *Group) write(ctx context.Context, b *Batch, refused *refusal) (Outcome, *batchWriter, error) {
	stock := g.s.spareStock
	if g.s.spareStock = nil; stock == nil {
		stock = make(stockSums, len(b.Rows))
	}
	clear(stock)
	w := newBatchWriter(g.s, b, stock)
	sp, err := g.tx.Begin(ctx)
	if err != nil {
		return Outcome{}, w, err
	}
	out, err := w.run(ctx, sp, refused)
	if err == nil {
		err = sp.Commit(ctx)
	}
	if err != nil {
		_ = sp.Rollback(ctx)
	}
	return out, w, err
}

// Commit applies the stock, moves the checkpoint to p, which is refused
// (*FencedError) unless the group's owner still holds the run, and commits.
// On an error the group is rolled back.
func (g *Group) Commit(ctx context.Context, p Progress) error {
	slices.Sort(g.accounts)
	err := g.stock.apply(ctx, g.tx)
	g.s.groupStock, g.stock = g.stock, nil
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

// LockSlot takes the advisory lock of group seq of the run's owner (a
// process that resumes the run is another owner, so that sessions a killed
// one left behind hold none of its slots), until the
// group's transaction ends: a group takes its own first, and the group
// after it takes it too before committing, so that it waits, in the
// server, until this one has ended. A cycle of such waits is a deadlock
// the server sees and breaks (SQLSTATE 40P01).
func (g *Group) LockSlot(ctx context.Context, seq int64) error {
	_, err := g.tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('batchimport group ' || $1 || ' ' || $2), $3::int)`,
		g.s.schema, g.owner, int32(seq))
	return g.s.lost(err)
}
