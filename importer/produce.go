package importer

import (
	"context"
	"errors"
	"io"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/store"
)

// chunk is a run of consecutive records, decoded and resolved: the rows
// for the database, and the records rejected before reaching it.
type chunk struct {
	rows      []store.Row
	raws      []invoice.RawRecord // each row's record as read, should the database refuse it
	rejected  []reject
	report    []reportEntry    // keys seen for the first time
	proposals []store.Proposal // of rejected lines, for review
	read      int64            // records in the chunk
	held      int              // bytes of the records it holds, rows and rejects (RawRecord.Size)
	skipped   int64            // of them, no invoice line (--skip-non-lines)
	fuzzy     int64
	last      int64  // line of the chunk's last record
	lastSeq   int64  // and its position in the input
	bytes     int64  // input bytes read when the chunk was cut
	digest    string // and their SHA-256
	err       error  // the input cannot be read after the chunk's records
}

// reject is a record rejected before the database, and why.
type reject struct {
	rec *invoice.Record
	err error
}

// rejectsPerChunkFactor cuts a chunk early when a file is mostly bad, so
// that the checkpoint keeps moving.
const rejectsPerChunkFactor = 4

// chunkBytes cuts a chunk early when its records are large: a record may
// take up to --max-record-bytes, rejected (kept whole for the rejects) or
// not (a column batchimport does not read), and what a run holds in
// memory is counted in chunks. 500 lines of a supplier's export with 40
// columns take about 200 KiB.
const chunkBytes = 1 << 20

// producer is the first stage: it decodes records in file order, resolves
// each valid one to an item, and cuts them into chunks. It runs on a
// goroutine of its own, ahead of the writer, and touches nothing but what it
// sends.
type producer struct {
	dec       invoice.Decoder
	in        *hashingReader // what dec reads: read to its end after the last record, so that all of it is hashed
	src       *source
	skipUpTo  int64 // resume: the records up to this position are done
	chunkSize int
	resolver  *resolver // nil: validation only
	spare     spare     // row arrays the writer is done with
}

// spare carries the row arrays of chunks the writer has copied into its
// batch back to the producer, to be filled again: a run allocates a few
// rather than one per chunk.
type spare chan rowArrays

type rowArrays struct {
	rows []store.Row
	raws []invoice.RawRecord
}

// newChunk returns an empty chunk, with row arrays the writer gave back
// if there are any.
func (p *producer) newChunk() *chunk {
	select {
	case a := <-p.spare:
		return &chunk{rows: a.rows, raws: a.raws}
	default:
		return &chunk{rows: make([]store.Row, 0, p.chunkSize), raws: make([]invoice.RawRecord, 0, p.chunkSize)}
	}
}

// giveBack hands the chunk's row arrays back to the producer, emptied.
func (s spare) giveBack(c *chunk) {
	if cap(c.rows) == 0 {
		return
	}
	clear(c.rows)
	clear(c.raws)
	select {
	case s <- rowArrays{rows: c.rows[:0], raws: c.raws[:0]}:
	default:
	}
}

func (p *producer) run(ctx context.Context, out chan<- *chunk) {
	defer close(out)
	c := p.newChunk()
	send := func() bool {
		c.bytes, c.digest = p.in.digest()
		select {
		case out <- c:
			c = p.newChunk()
			return true
		case <-ctx.Done():
			return false
		}
	}
	for ctx.Err() == nil {
		rec, err := p.dec.Next()
		if errors.Is(err, io.EOF) {
			if _, err := io.Copy(io.Discard, p.in); err != nil {
				c.err = &InputError{Name: p.src.in.Name, Err: err}
			} else if p.in.check() != prefixNone {
				c = &chunk{err: p.in.differs}
			}
			if c.read > 0 || c.err != nil {
				send()
			}
			return
		}
		if err != nil {
			c.err = &InputError{Name: p.src.in.Name, Err: err, Midway: true}
			send()
			return
		}
		if rec.Seq <= p.skipUpTo {
			continue
		}
		if err := p.add(ctx, c, rec); err != nil {
			c.err = err
			send()
			return
		}
		switch p.in.check() {
		case prefixPending:
			continue // a resumed input's records wait until its start is checked
		case prefixDiffers:
			c = &chunk{err: p.in.differs}
			send()
			return
		}
		if len(c.rows) >= p.chunkSize || len(c.rejected) >= rejectsPerChunkFactor*p.chunkSize || c.held >= chunkBytes {
			if !send() {
				return
			}
		}
	}
}

// add puts a record in the chunk, as a row or as a reject. Only a failure
// to load a catalogue is returned.
func (p *producer) add(ctx context.Context, c *chunk, rec *invoice.Record) error {
	if rec.Skipped {
		c.count(rec)
		c.skipped++
		return nil
	}
	if rec.Err != nil {
		c.count(rec)
		c.reject(rec, rec.Err)
		return nil
	}
	row := store.Row{Line: int64(rec.Line), Record: rec.Seq, Origin: store.Origin(rec.Origin)}
	if p.resolver != nil {
		var err error
		row, err = p.resolver.resolve(ctx, rec, c)
		if err != nil {
			if unresolved := (*unresolvedError)(nil); errors.As(err, &unresolved) {
				c.count(rec)
				c.reject(rec, err)
				return nil
			}
			// The record is neither a row nor a reject: the chunk, and the
			// checkpoint, end before it.
			return err
		}
	}
	c.count(rec)
	c.rows = append(c.rows, row)
	c.raws = append(c.raws, rec.Raw)
	c.held += rec.Raw.Size()
	return nil
}

// reject puts a rejected record in the chunk.
func (c *chunk) reject(rec *invoice.Record, err error) {
	rec = new(*rec) // the decoder's, reused by its next record
	c.rejected = append(c.rejected, reject{rec: rec, err: err})
	c.held += rec.Raw.Size()
}

// count makes the record the chunk's last.
func (c *chunk) count(rec *invoice.Record) {
	c.read++
	c.last, c.lastSeq = int64(rec.Line), rec.Seq
}
