package importer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batchimport/batchimport/store"
)

// flight is a group: consecutive batches in one transaction on one lane.
type flight struct {
	lane  *lane
	seq   int64          // the group's place in the run, from 1: its slot lock
	prev  *flight        // the group before it, unless harvested when it began; cleared once read
	base  store.Progress // else the fix then
	start time.Time
	// Filled as batches are sent:
	batches   int
	chunks    int
	last      store.Progress      // as the group's last batch said
	keys      []pendingKey        // registered by this group (parallelSink.forget)
	held      map[pendingKey]bool // of rows held back
	heldBytes int                 // their records' bytes
	heldItems bool                // held has an item
	// begun is closed once the group's transaction holds its slot lock
	// (or never will): the group after it may wait for the lock then.
	begun  chan struct{}
	opened bool           // begun is closed; the lane's alone
	done   chan struct{}  // closed once committed or failed
	p, fix store.Progress // set before done: as committed, and the fix through it
	err    error
	// failed is closed by the first group of its stretch to fail: every
	// group after it is to be rolled back, and need wait for nothing.
	failed *failure
}

// failure is closed once, by the first group of a stretch of groups (from
// the run's start or a rewind) that fails.
type failure struct {
	once sync.Once
	ch   chan struct{}
}

func newFailure() *failure { return &failure{ch: make(chan struct{})} }

func (f *failure) close() { f.once.Do(func() { close(f.ch) }) }

// open closes begun, once.
func (f *flight) open() {
	if !f.opened {
		f.opened = true
		close(f.begun)
	}
}

func (f *flight) finish(p, fix store.Progress, err error) {
	f.open()
	f.p, f.fix, f.err = p, fix, err
	if err != nil {
		f.failed.close()
	}
	close(f.done)
}

// lane is one writer: a connection, and the goroutine that writes on it.
type lane struct {
	db   *store.Store
	jobs chan job
	// slot is taken for each batch sent and given back as the lane takes
	// it: one batch is queued at most, and the end of a group can be
	// queued besides without waiting.
	slot    chan struct{}
	idle    atomic.Bool     // the lane waits for jobs, and none is queued
	group   int64           // the last group it was given (flight.seq)
	hungry  chan<- struct{} // told when the lane takes a batch from its queue, or becomes idle
	stopped chan struct{}
}

// job is a batch for a lane, or the end of its group.
type job struct {
	f     *flight
	now   *store.Batch // written at once; nil: none
	later *store.Batch // written at the group's end; nil: none
	end   bool         // commit the group
	abort bool         // roll the group back
	slot  bool         // gives a slot back
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
	for {
		if len(l.jobs) == 0 {
			l.idle.Store(true)
			l.tell()
		}
		j, ok := <-l.jobs
		l.idle.Store(false)
		if !ok {
			return
		}
		if j.slot {
			<-l.slot
			l.tell()
		}
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
				g, err = l.begin(ctx, f, j.now)
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

// tell says that the lane has room for a batch, or is idle.
func (l *lane) tell() {
	select {
	case l.hungry <- struct{}{}:
	default:
	}
}

// begin starts the group's transaction, which takes the group's slot lock
// first: the group after it waits for that lock, in the server, where a
// wait that closes a cycle is seen and broken (SQLSTATE 40P01).
func (l *lane) begin(ctx context.Context, f *flight, first *store.Batch) (*store.Group, error) {
	defer f.open()
	g, err := l.db.BeginGroup(ctx, first)
	if err == nil {
		if err = g.LockSlot(ctx, f.seq); err != nil {
			g.Rollback(ctx)
		}
	}
	return g, err
}

// commit ends the group: once the group before it has committed, it
// writes the rows held back, then commits with the progress the group
// brings the run to.
func (l *lane) commit(ctx context.Context, g *store.Group, f *flight, later []*store.Batch, delta store.Progress) error {
	err := waitTurn(ctx, g, f.prev, f.failed)
	base := f.base
	if f.prev != nil && err == nil {
		base = f.prev.fix
	}
	f.prev = nil // what it says is read: a run's groups are not kept
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

// waitTurn waits until the group before has ended, holding the group's
// transaction open, and says whether it committed. The wait is for the
// other group's slot lock: in the server, so that a cycle of waits through
// it (that group waiting for a lock this one holds, itself or through
// another process) is found and broken by the server's deadlock check.
func waitTurn(ctx context.Context, g *store.Group, prev *flight, failed *failure) error {
	if prev == nil {
		return nil
	}
	// Soon: its lane has committed the group before it, unless one
	// failed; then this group is to be rolled back, and may be what an
	// earlier group waits for.
	select {
	case <-prev.begun:
	default:
		select {
		case <-prev.begun:
		case <-failed.ch:
			return errGroupBefore // perhaps for a later group's failure: see parallelSink.failed
		}
	}
	if err := g.LockSlot(ctx, prev.seq); err != nil {
		return err
	}
	<-prev.done // its transaction has ended; its lane is a reply away from saying how
	if prev.err != nil {
		return errGroupBefore
	}
	return nil
}

// errGroupBefore is a group rolled back because the one before it failed.
var errGroupBefore = errors.New("the group before failed")

// errAbandoned is a group rolled back because the run stopped.
var errAbandoned = errors.New("the run stopped")
