package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// NewItem is an inventory item that a chunk creates. ID points at the
// caller's copy of the item's id, which the insert sets (again on a retry).
type NewItem struct {
	Account    string
	Name       string
	Normalized string
	Unit       string
	ID         *int64
}

// NewMapping is an item mapping that a chunk stores.
type NewMapping struct {
	Account string
	Vendor  string
	KeyKind string
	Key     string
	ItemID  *int64
	Method  string
	Score   float64
}

// Row is one transaction row: one valid, resolved invoice line.
type Row struct {
	Line          int64 // physical line where the record starts
	Record        int64 // the record's position in the input
	Account       string
	ItemID        *int64
	InvoiceNumber string
	InvoiceDate   string
	Vendor        string
	VendorSKU     string
	Description   string
	Quantity      decimal.Decimal
	Unit          string
	UnitCost      decimal.Decimal
}

// Chunk is what one transaction writes: one or more COPY chunks (parts),
// with the items and mappings they need.
type Chunk struct {
	RunID    int64
	From     int64 // the run's checkpoint (Progress.Record) before this chunk
	Items    []NewItem
	Mappings []NewMapping
	Rows     []Row
	// Ends splits Rows into parts, each sent in a COPY of its own: part i
	// ends before Rows[Ends[i]]. Empty means one part.
	Ends []int
}

func (c *Chunk) parts() []int {
	if len(c.Ends) == 0 {
		return []int{len(c.Rows)}
	}
	return c.Ends
}

// RowError is a row the database refused during a replay.
type RowError struct {
	Index int // into Chunk.Rows
	Err   error
}

// Outcome is what a chunk's transaction did, as far as it got.
type Outcome struct {
	ItemsCreated int        // items this chunk inserted (not found already there)
	Rejected     []RowError // rows refused during a replay, in row order
	Replayed     int        // parts replayed row by row
}

// BeforeCommit runs inside a chunk's transaction just before COMMIT. It
// returns the progress to record with the checkpoint; the importer uses it
// to make the rejects file durable first.
type BeforeCommit func(Outcome) (Progress, error)

// ErrCheckpointMoved says the run's checkpoint was not where the chunk
// expected: an earlier attempt whose COMMIT outcome was unknown did commit,
// or another process wrote to the run.
var ErrCheckpointMoved = errors.New("the run's checkpoint moved under this chunk")

// WriteChunk writes a chunk in one transaction: its new items and mappings,
// one COPY per part, each in a savepoint, one statement applying the
// inventory deltas aggregated per item, and the checkpoint. A part whose
// COPY the database refuses (IsDataError) is rolled back to its savepoint
// and replayed row by row, each row in a savepoint of its own; the rows
// refused then are left out and reported. A data error anywhere else (the
// inventory update overflowing, say) rolls everything back and is returned,
// for the caller to ReplayChunk.
func (s *Store) WriteChunk(ctx context.Context, c *Chunk, before BeforeCommit) (Outcome, error) {
	g, err := s.BeginGroup(ctx, c.RunID)
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	err = g.writeParts(ctx, c, &out)
	if err == nil {
		var p Progress
		if p, err = before(out); err == nil {
			err = g.Commit(ctx, c.From, p)
		}
	}
	if err != nil {
		g.Rollback(context.WithoutCancel(ctx))
	}
	return out, s.lost(err)
}

// copyParts sends each part of the chunk in a COPY of its own, in a
// savepoint, replaying a refused part row by row. It returns the rows
// refused.
func (s *Store) copyParts(ctx context.Context, tx pgx.Tx, c *Chunk, out *Outcome) (map[int]bool, error) {
	start := 0
	for _, end := range c.parts() {
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { // a savepoint
			return s.copyRows(ctx, sp, c.RunID, c.Rows[start:end])
		})
		if err != nil {
			if !IsDataError(err) {
				return nil, err
			}
			out.Replayed++
			if err := s.insertRowByRow(ctx, tx, c, start, end, false, out); err != nil {
				return nil, err
			}
		}
		start = end
	}
	refused := make(map[int]bool, len(out.Rejected))
	for _, re := range out.Rejected {
		refused[re.Index] = true
	}
	return refused, nil
}

// insertRowByRow inserts rows [start, end) each in its own savepoint, and
// with its stock change when stock is set.
func (s *Store) insertRowByRow(ctx context.Context, tx pgx.Tx, c *Chunk, start, end int, stock bool, out *Outcome) error {
	for i := start; i < end; i++ {
		r := &c.Rows[i]
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
			if _, err := sp.Exec(ctx, insertRowSQL, rowArgs(c.RunID, r)...); err != nil || !stock {
				return err
			}
			_, err := sp.Exec(ctx, `UPDATE inventory_items SET quantity = quantity + $3::numeric
				WHERE account = $1 AND id = $2`, r.Account, *r.ItemID, r.Quantity.String())
			return err
		})
		if err != nil {
			if !IsDataError(err) {
				return err
			}
			out.Rejected = append(out.Rejected, RowError{Index: i, Err: err})
		}
	}
	return nil
}

// ReplayChunk writes a chunk row by row, each row and its inventory change
// in a savepoint, so that a row the database refuses costs only itself, even
// when what the database refuses is the row's inventory change.
func (s *Store) ReplayChunk(ctx context.Context, c *Chunk, before BeforeCommit) (Outcome, error) {
	return s.chunkTx(ctx, c, before, func(tx pgx.Tx, out *Outcome) error {
		out.Replayed = len(c.parts())
		return s.insertRowByRow(ctx, tx, c, 0, len(c.Rows), true, out)
	})
}

// chunkTx runs the parts every chunk transaction shares around write.
func (s *Store) chunkTx(ctx context.Context, c *Chunk, before BeforeCommit, write func(pgx.Tx, *Outcome) error) (Outcome, error) {
	var out Outcome
	if s.conn == nil {
		return out, errNotConnected
	}
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		created, err := s.insertItems(ctx, tx, c.Items)
		if err != nil {
			return err
		}
		out.ItemsCreated = created
		if err := s.insertMappings(ctx, tx, c.Mappings); err != nil {
			return err
		}
		if err := write(tx, &out); err != nil {
			return err
		}
		p, err := before(out)
		if err != nil {
			return err
		}
		return s.checkpoint(ctx, tx, c.RunID, c.From, p)
	})
	return out, s.lost(err)
}

// insertItems creates the chunk's new items, in (account, normalized name)
// order so that concurrent imports take their locks in the same order, and
// sets each item's id. An item that a concurrent import created first is
// used as it is.
func (s *Store) insertItems(ctx context.Context, tx pgx.Tx, items []NewItem) (created int, err error) {
	if len(items) == 0 {
		return 0, nil
	}
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b NewItem) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Normalized, b.Normalized))
	})
	accounts, names, norms, units := make([]string, len(items)), make([]string, len(items)), make([]string, len(items)), make([]*string, len(items))
	for i, it := range items {
		accounts[i], names[i], norms[i] = it.Account, it.Name, it.Normalized
		if it.Unit != "" {
			units[i] = &items[i].Unit
		}
	}
	ids := make(map[[2]string]int64, len(items))
	rows, err := tx.Query(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
		ON CONFLICT (account, normalized_name) DO NOTHING
		RETURNING account, normalized_name, id`, accounts, names, norms, units)
	if err != nil {
		return 0, err
	}
	if err := collectIDs(rows, ids); err != nil {
		return 0, err
	}
	created = len(ids)
	if created < len(items) {
		rows, err := tx.Query(ctx, `SELECT i.account, i.normalized_name, i.id
			FROM inventory_items i JOIN unnest($1::text[], $2::text[]) AS n(account, normalized_name)
			ON i.account = n.account AND i.normalized_name = n.normalized_name`, accounts, norms)
		if err != nil {
			return 0, err
		}
		if err := collectIDs(rows, ids); err != nil {
			return 0, err
		}
	}
	for _, it := range items {
		id, ok := ids[[2]string{it.Account, it.Normalized}]
		if !ok {
			return 0, fmt.Errorf("item %q of account %q was neither created nor found", it.Name, it.Account)
		}
		*it.ID = id
	}
	return created, nil
}

func collectIDs(rows pgx.Rows, ids map[[2]string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var account, norm string
		var id int64
		if err := rows.Scan(&account, &norm, &id); err != nil {
			return err
		}
		ids[[2]string{account, norm}] = id
	}
	return rows.Err()
}

// insertMappings stores the chunk's new mappings. A key that a concurrent
// import mapped first keeps that mapping.
func (s *Store) insertMappings(ctx context.Context, tx pgx.Tx, ms []NewMapping) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	accounts, vendors, kinds, keys, methods := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	itemIDs, scores := make([]int64, n), make([]float32, n)
	for i, m := range ms {
		accounts[i], vendors[i], kinds[i], keys[i], methods[i] = m.Account, m.Vendor, m.KeyKind, m.Key, m.Method
		itemIDs[i], scores[i] = *m.ItemID, float32(m.Score)
	}
	_, err := tx.Exec(ctx, `INSERT INTO item_mappings (account, vendor, key_kind, key, item_id, method, score)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::real[])
		ON CONFLICT (account, vendor, key_kind, key) DO NOTHING`,
		accounts, vendors, kinds, keys, itemIDs, methods, scores)
	return err
}

const transactionColumns = `run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
	vendor, vendor_sku, description, quantity, unit, unit_cost`

const insertRowSQL = `INSERT INTO transactions (` + transactionColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11::numeric, $12, $13::numeric)`

func rowArgs(runID int64, r *Row) []any {
	return []any{runID, r.Line, r.Record, r.Account, *r.ItemID, r.InvoiceNumber, r.InvoiceDate,
		r.Vendor, nullable(r.VendorSKU), r.Description, r.Quantity.String(), nullable(r.Unit), r.UnitCost.String()}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// copyRows sends the rows in one COPY, in PostgreSQL's text format: it costs
// the client far less than the binary encoding of numerics.
func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, runID int64, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(len(rows) * 192)
	for i := range rows {
		appendCopyRow(&buf, runID, &rows[i])
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, &buf, `COPY transactions (`+transactionColumns+`) FROM STDIN`)
	return err
}
