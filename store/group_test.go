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

// The stock of a group reaches the items of every account its rows name,
// whatever characters the account holds: the accounts go to the server
// in an array literal written by hand.
func TestStockReachesAccountsOfAnyName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, conn, run := acmeRun(t)
	accounts := []string{"acme", `say "cheese"`, `back\slash`, "{braces,comma}", "NULL", " spaced ", "Café Ünïcode", "'quote'"}
	b := &store.Batch{RunID: run.ID, Account: "acme", Owner: "o", Raw: func(int) []byte { return []byte("raw") }}
	for i, account := range accounts {
		var item int64
		if err := conn.QueryRow(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ($1, 'Figs', 'figs', 'ea') RETURNING id`, account).Scan(&item); err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			n := int64(len(b.Rows) + 1)
			q := fixed.New(int64(10*i+j+1), 3) // 0.001, 0.002, 0.011, ...
			b.Rows = append(b.Rows, store.Row{Line: n, Record: n, Account: account, ItemID: &item, InvoiceNumber: fmt.Sprintf("INV-%d", n),
				InvoiceDate: "2026-05-04", Vendor: "Sysco", Description: "Figs", Quantity: q, BaseQuantity: q, UnitCost: fixed.New(1, 0)})
		}
	}
	n := int64(len(b.Rows))
	b.Ends = []int{len(b.Rows)}
	b.Progress = store.Progress{Record: n, Line: n, RowsRead: n, RowsImported: n, Chunks: 1}
	g, err := db.BeginGroup(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := g.Commit(ctx, b.Progress); err != nil {
		t.Fatal(err)
	}
	pgtest.CheckQuantities(t, conn)
	var zero int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM inventory_items WHERE quantity = 0`).Scan(&zero); err != nil || zero > 0 {
		t.Errorf("%d items of the %d accounts kept no stock (%v)", zero, len(accounts), err)
	}
}
