package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/batchimport/batchimport/invoice"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// chunk is a run of consecutive records, ready for one transaction: the
// accepted rows with their new items and mappings, and the records rejected
// before reaching the database.
type chunk struct {
	last     int64 // line of the chunk's last record
	lastSeq  int64 // and its position in the input
	bytes    int64 // input bytes consumed when the chunk was cut
	read     int64 // records in the chunk
	fuzzy    int64
	rows     []store.Row
	recs     []*invoice.Record // the record of each row, for replay rejects
	items    []store.NewItem
	mappings []store.NewMapping
	rejects  []reject
	err      error // a fatal input error after the chunk's records
	ends     []int // when chunks are joined into one commit: where each one's rows end
}

// join appends the next chunk to c, for one transaction that sends each
// chunk's rows in a COPY of its own.
func (c *chunk) join(next *chunk) {
	if c.ends == nil {
		c.ends = []int{len(c.rows)}
	}
	c.rows = append(c.rows, next.rows...)
	c.ends = append(c.ends, len(c.rows))
	c.recs = append(c.recs, next.recs...)
	c.items = append(c.items, next.items...)
	c.mappings = append(c.mappings, next.mappings...)
	c.rejects = append(c.rejects, next.rejects...)
	c.read += next.read
	c.fuzzy += next.fuzzy
	if next.read > 0 {
		c.last, c.lastSeq = next.last, next.lastSeq
	}
	c.bytes = next.bytes
	c.err = next.err
}

// rejectsPerChunkFactor cuts a chunk early when a file is mostly bad, so the
// checkpoint keeps moving.
const rejectsPerChunkFactor = 4

// producer reads, validates and resolves records in file order and cuts
// them into chunks. It runs in its own goroutine, one chunk ahead of the
// writer, so parsing and mapping overlap the database work.
type producer struct {
	opts      *Options
	dec       invoice.Decoder
	counter   *countingReader
	skipUpTo  int64 // resume: the records up to this position are done
	resolvers map[string]*mapping.Resolver
	load      func(ctx context.Context, account string) (*mapping.Resolver, error)
	ids       map[*mapping.Item]*int64 // id slots of items this run creates
	report    *mappingReport
}

func (p *producer) run(ctx context.Context, out chan<- *chunk) {
	defer close(out)
	c := &chunk{}
	send := func() bool {
		c.bytes = p.counter.n.Load()
		select {
		case out <- c:
			c = &chunk{}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		if ctx.Err() != nil {
			return
		}
		rec, err := p.dec.Next()
		if errors.Is(err, io.EOF) {
			if c.read > 0 {
				send()
			}
			return
		}
		if err != nil {
			c.err = err
			send()
			return
		}
		if rec.Seq <= p.skipUpTo {
			continue
		}
		c.read++
		c.last, c.lastSeq = int64(rec.Line), rec.Seq
		if rec.Err != nil {
			c.rejects = append(c.rejects, reject{rec: rec, reason: rec.Err.Error()})
		} else if err := p.resolve(ctx, c, rec); err != nil {
			var unresolved *unresolvedError
			if !errors.As(err, &unresolved) {
				c.err = err
				send()
				return
			}
			c.rejects = append(c.rejects, reject{rec: rec, reason: err.Error()})
		}
		if len(c.rows) >= p.opts.ChunkSize || len(c.rejects) >= rejectsPerChunkFactor*p.opts.ChunkSize {
			if !send() {
				return
			}
		}
	}
}

type unresolvedError struct{ err error }

func (e *unresolvedError) Error() string { return "description: " + e.err.Error() }

// resolve maps a valid record to an item and adds it to the chunk.
func (p *producer) resolve(ctx context.Context, c *chunk, rec *invoice.Record) error {
	l := &rec.Valid
	if p.load == nil { // offline: validation only, no item
		c.rows = append(c.rows, store.Row{Line: int64(rec.Line), Record: rec.Seq})
		c.recs = append(c.recs, rec)
		return nil
	}
	r, ok := p.resolvers[l.Account]
	if !ok {
		var err error
		if r, err = p.load(ctx, l.Account); err != nil {
			return &catalogueError{account: l.Account, err: err}
		}
		p.resolvers[l.Account] = r
	}
	res, err := r.Resolve(mapping.Line{Vendor: l.Vendor, VendorSKU: l.VendorSKU, Description: l.Description, Unit: l.Unit})
	if errors.Is(err, mapping.ErrUnresolved) {
		return &unresolvedError{err: err}
	}
	if err != nil {
		return err
	}
	id := p.idSlot(res.Item)
	if res.Created {
		c.items = append(c.items, store.NewItem{Account: l.Account, Name: res.Item.Name, Normalized: res.Item.Normalized, Unit: res.Item.Unit, ID: id})
	}
	if res.Method == mapping.MethodFuzzy {
		c.fuzzy++
	}
	for _, m := range res.NewMappings {
		c.mappings = append(c.mappings, store.NewMapping{Account: l.Account, Vendor: m.Vendor, KeyKind: string(m.KeyKind),
			Key: m.Key, ItemID: p.idSlot(m.Item), Method: string(m.Method), Score: m.Score})
	}
	p.report.add(l, res, id)
	c.rows = append(c.rows, store.Row{
		Line: int64(rec.Line), Record: rec.Seq, Account: l.Account, ItemID: id,
		InvoiceNumber: l.InvoiceNumber, InvoiceDate: l.InvoiceDate, Vendor: l.Vendor, VendorSKU: l.VendorSKU,
		Description: l.Description, Quantity: l.Quantity, Unit: l.Unit, UnitCost: l.UnitPrice,
	})
	c.recs = append(c.recs, rec)
	return nil
}

// idSlot returns where an item's database id lives. Items from the catalogue
// have theirs; items created in this run get a slot that the writer fills
// when it inserts them. The resolver's own Item.ID of a new item stays 0, so
// that resolution never depends on the writer's timing.
func (p *producer) idSlot(it *mapping.Item) *int64 {
	if s, ok := p.ids[it]; ok {
		return s
	}
	s := new(int64)
	*s = it.ID
	p.ids[it] = s
	return s
}

// catalogueError is a failure to load an account's catalogue: a database
// problem, retried like one, not a problem of the input.
type catalogueError struct {
	account string
	err     error
}

func (e *catalogueError) Error() string {
	return fmt.Sprintf("load the catalogue of account %q: %v", e.account, e.err)
}
func (e *catalogueError) Unwrap() error { return e.err }
