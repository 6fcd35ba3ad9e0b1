package importer

import (
	"context"
	"time"

	"github.com/batchimport/batchimport/store"
)

// flight is a group: consecutive batches in one transaction on one lane.
type flight struct {
	lane  *lane
	prev  *flight        // the group before it, unless harvested when it began
	base  store.Progress // else the fix then
	began time.Time
	// Filled as batches are sent:
	chunks       int
	last         store.Progress // as the group's last batch said
	invoices     []invoiceKey   // registered by this group
	items        []*int64
	heldInvoices map[invoiceKey]bool // of rows held back
	heldItems    map[*int64]bool
	done         chan struct{}  // closed once committed or failed
	p, fix       store.Progress // set before done: as committed, and the fix through it
	err          error
}

func (f *flight) finish(p, fix store.Progress, err error) {
	f.p, f.fix, f.err = p, fix, err
	close(f.done)
}

// lane is one writer: a connection, and the goroutine that writes on it.
type lane struct {
	db      *store.Store
	pid     uint32 // of db's server process; changed only while no group is in flight
	jobs    chan job
	stopped chan struct{}
}

// job is a batch for a lane, or the end of its group.
type job struct {
	f     *flight
	now   *store.Batch // written at once; nil: none
	later *store.Batch // written at the group's end; nil: none
	end   bool         // commit the group
	abort bool         // roll the group back
}

// run writes the lane's jobs until its queue is closed.
func (l *lane) run() {
	defer close(l.stopped)
	ctx := context.Background()
	var (
		f     *flight
		g     *store.Group
		later []*store.Batch
		delta store.Progress
		err   error
	)
	for j := range l.jobs {
		if j.f != f {
			f, g, later, delta, err = j.f, nil, nil, store.Progress{}, nil
		}
		switch {
		case err != nil: // the group failed already
		case j.abort:
			if g != nil {
				g.Rollback(ctx)
			}
			err = errAbandoned
			f.finish(store.Progress{}, store.Progress{}, err)
			continue
		case j.now != nil:
			if g == nil {
				g, err = l.db.BeginGroup(ctx, j.now)
			}
			if err == nil {
				var out store.Outcome
				out, err = g.Write(ctx, j.now)
				delta = delta.Plus(out.Progress)
			}
			if j.now.Release != nil {
				j.now.Release()
			}
			if err != nil {
				// At once: the groups after it need not wait to learn.
				if g != nil {
					g.Rollback(ctx)
				}
				f.finish(store.Progress{}, store.Progress{}, err)
				continue
			}
		}
		if j.later != nil {
			later = append(later, j.later)
		}
		if j.end && err == nil {
			err = l.commit(ctx, g, f, later, delta)
		}
	}
}

// commit ends the group: once the group before it has committed, it
// writes the rows held back, then commits with the progress the group
// brings the run to.
func (l *lane) commit(ctx context.Context, g *store.Group, f *flight, later []*store.Batch, delta store.Progress) error {
	err := l.waitTurn(ctx, g, f.prev)
	base := f.base
	if f.prev != nil && err == nil {
		base = f.prev.fix
	}
	for _, b := range later {
		if err != nil {
			break
		}
		var out store.Outcome
		out, err = g.Write(ctx, b)
		delta = delta.Plus(out.Progress)
	}
	fix := base.Plus(delta)
	p := f.last.Plus(fix)
	if err == nil {
		err = g.Commit(ctx, p) // rolled back on an error
	} else {
		g.Rollback(ctx)
	}
	f.finish(p, fix, err)
	return err
}

// waitTurn waits until the group before has committed, checking now and
// then that it is not waiting for this one.
func (l *lane) waitTurn(ctx context.Context, g *store.Group, prev *flight) error {
	if prev == nil {
		return nil
	}
	tick := time.NewTicker(blockCheck)
	defer tick.Stop()
	for {
		select {
		case <-prev.done:
			if prev.err != nil {
				return errGroupBefore
			}
			return nil
		case <-tick.C:
			blocks, err := g.Blocks(ctx, prev.lane.pid)
			if err != nil {
				return err
			}
			if blocks {
				return errBlocksGroupBefore
			}
		}
	}
}
