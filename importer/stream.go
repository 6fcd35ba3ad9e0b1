package importer

import (
	"context"
	"time"

	"github.com/batchimport/batchimport/store"
)

// maxGroupAge bounds how long a transaction of stream stays open: a crash
// loses at most this much work, and concurrent imports wait at most this
// long for a stock row.
const maxGroupAge = time.Second

// stream writes chunks in long transactions: a transaction takes chunks as
// they come and commits every second (or every ChunksPerCommit chunks, at
// the end of the input, on a signal, or when --max-rejects is passed). Each
// item's stock is then updated once per transaction, not once per chunk,
// and consecutive chunks that need nothing else (no new items or mappings)
// go in one COPY: together these spare the server most of what it did
// besides the COPY itself. Chunks are not kept once sent: if the
// transaction fails, the caller reads the input again from the checkpoint.
// Rejected records are appended to the rejects file as they come, and made
// durable before the checkpoint that counts them.
func (w *writer) stream(ctx context.Context, chunks <-chan *chunk) error {
	s := &streamer{w: w, ctx: ctx, dbctx: context.WithoutCancel(ctx), chunks: chunks, pending: w.committed}
	err := s.run()
	if err != nil && s.g != nil {
		s.g.Rollback(s.dbctx)
	}
	return err
}

// streamer is the state of stream.
type streamer struct {
	w          *writer
	ctx, dbctx context.Context
	chunks     <-chan *chunk
	held       *chunk // received but not yet written
	closed     bool   // chunks is closed
	g          *store.Group
	opened     time.Time
	inGroup    int
	pending    store.Progress // progress including the open transaction
}

func (s *streamer) run() error {
	for {
		c := s.receive(true)
		if c == nil {
			return s.commit()
		}
		if err := s.begin(); err != nil {
			return err
		}
		if c.read > 0 {
			if len(c.items) > 0 || len(c.mappings) > 0 || c.err != nil {
				// Items and mappings go in before the rows that use them.
				out, err := s.g.Write(s.dbctx, &store.Chunk{RunID: s.w.run.ID, Items: c.items, Mappings: c.mappings, Rows: c.rows})
				if err != nil {
					return err
				}
				if err := s.account(c, out); err != nil {
					return err
				}
			} else if err := s.streamFrom(c); err != nil {
				return err
			}
		}
		if c.err != nil || s.full() {
			if err := s.commit(); err != nil {
				return err
			}
		}
		// Past --max-rejects or a signal, full() committed above; stop.
		if err := s.w.afterChunk(s.ctx, c); err != nil {
			return err
		}
	}
}

// streamFrom sends c and the chunks that follow it in one COPY, as long as
// they need nothing else and the transaction is not full. Each chunk is
// counted as its rows are handed over, and then let go, so memory does not
// grow with the transaction.
func (s *streamer) streamFrom(first *chunk) error {
	sent := 0
	var acctErr error
	next := func() ([]store.Row, bool) {
		c := first
		if sent > 0 {
			if acctErr != nil || s.full() || s.inGroup >= s.w.opts.ChunksPerCommit {
				return nil, false
			}
			if c = s.receive(false); c == nil {
				return nil, false
			}
			if c.read == 0 || len(c.items) > 0 || len(c.mappings) > 0 || c.err != nil {
				s.held = c
				return nil, false
			}
		}
		sent++
		if acctErr = s.account(c, store.Outcome{}); acctErr != nil {
			return nil, false
		}
		return c.rows, true
	}
	if err := s.g.Stream(s.dbctx, next); err != nil {
		return err
	}
	return acctErr
}

// receive returns the next chunk: the one held back, else one from the
// producer, waiting for it only if wait. It returns nil at the end.
func (s *streamer) receive(wait bool) *chunk {
	if c := s.held; c != nil {
		s.held = nil
		return c
	}
	if s.closed {
		return nil
	}
	if !wait {
		// Inside a COPY: wait for the producer, but not past the
		// transaction's second, nor past a signal.
		select {
		case c, ok := <-s.chunks:
			if !ok {
				s.closed = true
				return nil
			}
			return c
		case <-time.After(time.Until(s.opened.Add(maxGroupAge))):
			return nil
		case <-s.ctx.Done():
			return nil
		}
	}
	c, ok := <-s.chunks
	if !ok {
		s.closed = true
		return nil
	}
	return c
}

func (s *streamer) begin() error {
	if s.g != nil {
		return nil
	}
	g, err := s.w.db.BeginGroup(s.dbctx, s.w.run.ID)
	if err != nil {
		return err
	}
	s.g, s.opened, s.inGroup = g, time.Now(), 0
	return nil
}

// full says the open transaction should commit now.
func (s *streamer) full() bool {
	return s.g != nil && (s.inGroup >= s.w.opts.ChunksPerCommit || time.Since(s.opened) >= maxGroupAge ||
		s.ctx.Err() != nil || s.pendingOverRejects())
}

func (s *streamer) pendingOverRejects() bool {
	return s.w.opts.MaxRejects > 0 && s.pending.RowsRejected > s.w.opts.MaxRejects
}

// account counts a written chunk and appends its rejects to the file.
func (s *streamer) account(c *chunk, out store.Outcome) error {
	p, err := s.w.record(s.pending, c, out)
	if err != nil {
		return err
	}
	s.pending = p
	s.inGroup++
	s.w.opts.Progress.Update(c.bytes, p.RowsRead, p.RowsRejected)
	return nil
}

// commit commits the open transaction, if any.
func (s *streamer) commit() error {
	if s.g == nil {
		return nil
	}
	g := s.g
	s.g = nil
	if err := g.Commit(s.dbctx, s.w.committed.Record, s.pending); err != nil {
		return err
	}
	s.w.committed = s.pending
	s.w.report.commit()
	return nil
}
