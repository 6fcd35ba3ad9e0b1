package importer

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/batchimport/batchimport/store"
)

// parallelSink is an import on several connections (--writers N). The
// batches go in groups, a transaction each, and each group to one of N
// lanes, a connection and a goroutine each: one that has nothing to write,
// else the next in turn. N groups are written at once. The groups commit
// in input order, each once the one before it has committed, so the run's
// checkpoint is still the end of what is committed and a resume, with any
// N, needs nothing more.
//
// A group waits for the one before it only at its end, where it adds its
// stock, moves the checkpoint and commits: no other group of the run
// holds a lock there, so a run takes its stock locks in one order. Rows
// that need what an earlier group still in flight writes (an item it
// creates, an invoice it claims, a reject it takes back) are held back to
// the end of their group (split.go), when that one has committed. The
// wait is for the earlier group's slot lock, in the server (lane.go):
// should two groups still wait for each other, through another process
// or through keys the client cannot foresee, the server sees the cycle
// and breaks it (SQLSTATE 40P01), and the run goes back to its
// checkpoint, as after a stock that overflows.
//
// The rest is the one writer's (dbSink): a refused row costs its batch a
// replay in its group; a group that fails sends the run back to its
// checkpoint, and every group after it is rolled back; then batches go one
// per transaction on the run's own connection for a while; transient
// failures are retried on new connections.
type parallelSink struct {
	*dbSink
	lanes   []*lane
	chunks  int       // most chunks in a group
	open    *flight   // the group being filled; nil: none
	flights []*flight // sent, oldest first, until harvested
	// fix is what the groups harvested added to the progress their
	// batches said: the items they created, the rows the database refused.
	fix store.Progress
	// pending is what groups in flight write (split.go): a row of a later
	// group that needs it waits for its group's end.
	pending map[pendingKey]*flight
	items   int               // item keys in pending
	lower   map[string]string // vendors, lower-cased
	seq     int64             // groups sent
	failure *failure          // of the groups since the run's start or its last rewind
	hungry  chan struct{}     // a lane has room for a batch, or has written all it was sent (lane.tell)
}

// parallelGroupRows is about the most rows a group of parallel writers
// carries: enough that its commit, stock update and checkpoint are a small
// part of it, few enough that a group rolled back costs little. A group
// ends sooner when another lane would wait for it (queue).
const parallelGroupRows = 15_000

// newParallelSink starts n lanes: the run's connection and n-1 more. A
// server that takes no more connections (noRoom) gets fewer lanes, and a
// warning; nil when it takes none: the run writes on its own connection
// alone.
func newParallelSink(ctx context.Context, s *dbSink, n, chunkSize int) (*parallelSink, error) {
	chunks := max(1, min(s.groupChunks, parallelGroupRows/chunkSize))
	ps := &parallelSink{dbSink: s, chunks: chunks, pending: map[pendingKey]*flight{}, lower: map[string]string{}, failure: newFailure(),
		hungry: make(chan struct{}, n)}
	for i := range n {
		db := s.db
		if i > 0 {
			var err error
			if db, err = sibling(ctx, s.db); noRoom(err) {
				s.log.Warn("the server takes no more connections: fewer writers", "writers", i, "asked", n, "error", err)
				if i == 1 {
					ps.close(ctx)
					return nil, nil
				}
				break
			}
			if err != nil {
				ps.close(ctx)
				return nil, err
			}
		}
		// A batch queued while the lane writes one: the server is what
		// waits, and a longer queue would only hold more rows in memory.
		// Room for the end of a group besides.
		l := &lane{db: db, jobs: make(chan job, 2), slot: make(chan struct{}, 1), hungry: ps.hungry, stopped: make(chan struct{})}
		ps.lanes = append(ps.lanes, l)
		go l.run()
	}
	return ps, nil
}

// batches is how many batches the sink holds at most: a batch queued for
// each lane, the one it writes, and the one being split.
func (s *parallelSink) batches() int {
	return len(s.lanes)*(cap(s.lanes[0].slot)+1) + 1
}

// close stops the lanes and closes their connections, but the run's.
func (s *parallelSink) close(ctx context.Context) {
	for _, l := range s.lanes {
		close(l.jobs)
		<-l.stopped
		if l.db != s.db {
			_ = l.db.Close(context.WithoutCancel(ctx))
		}
	}
	s.lanes = nil
}

func (s *parallelSink) commit(ctx context.Context, b *store.Batch, more bool) (store.Outcome, error) {
	if err := s.harvest(ctx, false); err != nil {
		return store.Outcome{}, err
	}
	if b != nil && b.Progress.Record <= s.alone {
		// Past a group that failed on a row: a transaction per batch on
		// the run's own connection, as with one writer.
		if err := s.drain(ctx); err != nil {
			return store.Outcome{}, err
		}
		b.Progress = b.Progress.Plus(s.fix)
		out, err := s.commitAlone(ctx, b)
		if err == nil {
			s.retry, s.committed, s.fix = nil, out.Progress, store.Progress{}
		}
		return out, err
	}
	var out store.Outcome
	if b != nil {
		s.send(b, !more)
		out.Progress = b.Progress
	}
	if b == nil || !more {
		return out, s.drain(ctx)
	}
	return out, nil
}

// send hands the batch to the lane of the open group, or of a new one.
func (s *parallelSink) send(b *store.Batch, last bool) {
	f := s.open
	if f != nil && !s.queue(f) {
		f = nil
	}
	if f == nil {
		l := s.freeLane()
		s.seq++
		l.group = s.seq
		f = &flight{lane: l, seq: s.seq, start: time.Now(), begun: make(chan struct{}), done: make(chan struct{}), held: map[pendingKey]bool{}, failed: s.failure}
		if n := len(s.flights); n > 0 {
			f.prev = s.flights[n-1]
		} else {
			f.base = s.fix
		}
		s.flights = append(s.flights, f)
		s.open = f
	}
	now, later := s.split(f, b)
	if later != nil {
		for j := range later.Rows {
			f.heldBytes += len(later.Raw(j))
		}
	}
	f.chunks += len(b.Ends)
	f.batches++
	f.last = b.Progress
	end := last || f.chunks >= s.chunks || time.Since(f.start) >= maxGroupTime || f.heldBytes >= maxHeldBytes
	f.lane.jobs <- job{f: f, now: now, later: later, end: end, slot: true}
	if end {
		s.open = nil
	}
}

// maxHeldBytes ends a group once the records of the rows it holds back to
// its end take that much: they stay in memory until then, and records
// near --max-record-bytes, all of an invoice begun in the group before,
// took 300 MiB at peak for 600 lines of 1 MB.
const maxHeldBytes = 8 << 20

// freeLane waits until a lane has room for a batch, takes its slot, and
// returns it: a lane that has written all it was sent, else the first of
// the others to have room, trying first the one given a group longest
// ago, which is the first to be done with it. Waiting for one lane in
// turn left another idle while the one waited for wrote two groups.
func (s *parallelSink) freeLane() *lane {
	for {
		if l := s.idleLane(nil); l != nil {
			select {
			case l.slot <- struct{}{}:
				return l
			default:
			}
		}
		byAge := slices.SortedFunc(slices.Values(s.lanes), func(a, b *lane) int { return cmp.Compare(a.group, b.group) })
		for _, l := range byAge {
			select {
			case l.slot <- struct{}{}:
				return l
			default:
			}
		}
		<-s.hungry
	}
}

// queue waits until the open group's lane has room for another batch, and
// says so. Should another lane run out of work first, while no other group
// is in flight, the group ends there (once it has two batches), and queue
// says false: the batch begins the next group, on that lane. The rows of a
// group must follow each other, so a lane that waits for the end of
// another's group waits for the rows read after it; ending a group early
// keeps two lanes writing, at the cost of more, shorter transactions. Not
// more than two: many short groups in flight at once lock the same items
// in many transactions, and cost the server far more than they save (with
// 16 writers on 2 cores, 240 s of server CPU for 1M lines against 33).
func (s *parallelSink) queue(f *flight) bool {
	select {
	case f.lane.slot <- struct{}{}:
		return true
	default:
	}
	for {
		if f.batches >= 2 && s.onlyInFlight(f) && s.idleLane(f.lane) != nil {
			f.lane.jobs <- job{f: f, end: true}
			s.open = nil
			return false
		}
		select {
		case f.lane.slot <- struct{}{}:
			return true
		case <-s.hungry:
		}
	}
}

// onlyInFlight says whether every group sent before f has ended.
func (s *parallelSink) onlyInFlight(f *flight) bool {
	for _, g := range s.flights {
		if g == f {
			continue
		}
		select {
		case <-g.done:
		default:
			return false
		}
	}
	return true
}

// idleLane returns a lane, but not, that has written all it was sent; nil
// when every lane has work.
func (s *parallelSink) idleLane(not *lane) *lane {
	for _, l := range s.lanes {
		if l != not && l.idle.Load() && len(l.jobs) == 0 {
			return l
		}
	}
	return nil
}

// harvest takes the groups that have ended, oldest first, waiting for
// them all with wait. A group that failed sends the run back to its
// checkpoint (*rewindError), or ends it.
func (s *parallelSink) harvest(ctx context.Context, wait bool) error {
	for len(s.flights) > 0 {
		f := s.flights[0]
		if !wait {
			select {
			case <-f.done:
			default:
				return nil
			}
		}
		<-f.done
		s.flights = s.flights[1:]
		s.forget(f)
		if f.err != nil {
			return s.failed(ctx, f)
		}
		s.committed, s.fix, s.span, s.retry = f.p, f.fix, 0, nil
	}
	return nil
}

// drain ends the open group and waits until every group has ended.
func (s *parallelSink) drain(ctx context.Context) error {
	if f := s.open; f != nil {
		f.lane.jobs <- job{f: f, end: true}
		s.open = nil
	}
	return s.harvest(ctx, true)
}

// failed stops every group after f, which failed, and turns its failure
// into where the run goes on from.
func (s *parallelSink) failed(ctx context.Context, f *flight) error {
	rest := s.flights
	s.abandon(ctx)
	s.fix, s.failure = store.Progress{}, newFailure()
	if errors.Is(f.err, errGroupBefore) {
		// Given up while waiting for the group before to begin, once a
		// later group had failed: that one's failure is the cause.
		for _, g := range rest {
			if g.err != nil && !errors.Is(g.err, errGroupBefore) && !errors.Is(g.err, errAbandoned) {
				f = g
				break
			}
		}
	}
	from := s.committed.Record
	err := f.err
	if deadlocked := store.SQLState(err) == deadlock; deadlocked || store.IsRowError(err) {
		// Its records, and as many after, go a batch per transaction.
		s.from = from
		s.refused(f.last.Record)
		if deadlocked {
			s.log.Info("a group of the run and the group before it waited for each other (through another process, or the same record twice): the run goes back to its checkpoint, and writes a batch per transaction for a while",
				"through_record", s.alone, "error", err)
			run, gerr := s.db.GetRun(context.WithoutCancel(ctx), s.run.ID)
			if gerr != nil {
				err = gerr
			} else {
				s.committed = run.Progress
				return &rewindError{to: run.Progress}
			}
		}
	}
	err = s.rewind(ctx, nil, err)
	var rw *rewindError
	if errors.As(err, &rw) && rw.to.Record >= f.last.Record {
		s.log.Info("the transaction had committed before the connection was lost", "through_line", f.last.Line)
	}
	if errors.As(err, &rw) {
		// The run's connection is new if it was lost; the others are
		// made new too. One the server has no room for any more
		// (noRoom) stops: every group sent to it would fail.
		n := len(s.lanes)
		s.lanes = slices.DeleteFunc(s.lanes, func(l *lane) bool {
			if l.db == s.db {
				return false
			}
			rerr := reconnect(context.WithoutCancel(ctx), l.db)
			if !noRoom(rerr) {
				return false
			}
			n--
			s.log.Warn("the server takes no more connections: one writer fewer", "writers", n, "error", rerr)
			close(l.jobs)
			<-l.stopped
			return true
		})
	}
	return err
}

// deadlock is the SQLSTATE of a deadlock the server broke: with several
// writers, two groups (of this run, or of this run and another) that
// waited for each other.
const deadlock = "40P01"

// abandon rolls back the open group, and waits for the others to end:
// those before it commit if they can.
func (s *parallelSink) abandon(ctx context.Context) {
	if f := s.open; f != nil {
		f.lane.jobs <- job{f: f, end: true, abort: true}
		s.open = nil
	}
	ok := true
	for _, f := range s.flights {
		<-f.done
		s.forget(f)
		if ok = ok && f.err == nil; ok {
			s.committed, s.fix = f.p, f.fix
		}
	}
	s.flights = nil
}
