package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// claimCounter counts the statements that claim invoices.
type claimCounter struct{ n atomic.Int64 }

func (c *claimCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "INSERT INTO invoices") {
		c.n.Add(1)
	}
	return ctx
}

func (c *claimCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// After a batch with a refused row, the next is written carefully at once,
// even with a few rows between them that the database took (the rows a
// group holds back to its end): sent whole first, it would be refused
// again, its invoices claimed twice.
func TestFewRowsTakenKeepTheNextBatchCareful(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	pgtest.RefusePoison(t, conn)
	ctx := context.Background()
	var item int64
	if _, err := conn.Exec(ctx, `INSERT INTO import_runs (id, source_key, source_name, account, status) VALUES (1, 'k', 'x.csv', 'acme', 'running')`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ('acme', 'Figs', 'figs', 'ea') RETURNING id`).Scan(&item); err != nil {
		t.Fatal(err)
	}
	claims := &claimCounter{}
	cfg.Tracer = claims
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	line := int64(0)
	batch := func(n, poisoned int) *store.Batch {
		b := &store.Batch{RunID: 1, Account: "acme", Ends: []int{n}, Raw: func(int) []byte { return []byte("raw") }}
		for i := range n {
			line++
			number := fmt.Sprintf("INV-%d", line/10)
			if i == poisoned {
				number = fmt.Sprintf("POISON-%d", line)
			}
			b.Rows = append(b.Rows, store.Row{Line: line, Record: line, Account: "acme", ItemID: &item, InvoiceNumber: number,
				InvoiceDate: "2026-05-04", Vendor: "Sysco", Description: "Figs", Quantity: fixed.New(1, 0), BaseQuantity: fixed.New(1, 0),
				UnitCost: fixed.New(1, 0)})
		}
		return b
	}
	first := batch(600, 100)
	g, err := db.BeginGroup(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Rollback(ctx)
	for _, b := range []*store.Batch{first, batch(3, -1)} {
		if _, err := g.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	before := claims.n.Load()
	out, err := g.Write(ctx, batch(600, 5))
	if err != nil || len(out.Refused) != 1 {
		t.Fatalf("outcome %+v, %v; want one row refused", out, err)
	}
	if n := claims.n.Load() - before; n != 1 {
		t.Errorf("the batch after a refused row and 3 rows taken claimed its invoices %d times, want once: it was sent whole first", n)
	}
}
