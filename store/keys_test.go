package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// A row whose item is gone is refused by the foreign key, checked after a
// COPY of many rows rather than at its end: in a group and in a batch of
// its own, that row alone is refused, with the key's SQLSTATE, and the
// others commit once, their stock with them.
func TestForeignKeyCheckedAfterTheCopyRefusesItsRow(t *testing.T) {
	t.Parallel()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	run, err := db.CreateRun(ctx, store.NewRun{SourceKey: "k", SourceName: "x.csv", Account: "acme", Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	var item int64
	if err := conn.QueryRow(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ('acme', 'Figs', 'figs', 'ea') RETURNING id`).Scan(&item); err != nil {
		t.Fatal(err)
	}
	gone := item + 1000
	line := int64(0)
	batch := func(n, orphan int) *store.Batch {
		b := &store.Batch{RunID: run.ID, Account: "acme", Owner: "o", From: line, Ends: []int{n}, Raw: func(int) []byte { return []byte("raw") }}
		for i := range n {
			line++
			id := &item
			if i == orphan {
				id = &gone
			}
			b.Rows = append(b.Rows, store.Row{Line: line, Record: line, Account: "acme", ItemID: id, InvoiceNumber: fmt.Sprintf("INV-%d", line/10),
				InvoiceDate: "2026-05-04", Vendor: "Sysco", Description: "Figs", Quantity: fixed.New(1, 0), BaseQuantity: fixed.New(1, 0),
				UnitCost: fixed.New(1, 0)})
		}
		b.Progress = store.Progress{Record: line, Line: line, RowsRead: line, RowsImported: line, Chunks: 1}
		return b
	}
	refusedByKey := func(out store.Outcome, want int) {
		t.Helper()
		var pe *pgconn.PgError
		if len(out.Refused) != 1 || out.Refused[0].Index != want || !errors.As(out.Refused[0].Err, &pe) || pe.Code != "23503" {
			t.Fatalf("refused %+v, want row %d alone, refused by its foreign key (23503)", out.Refused, want)
		}
	}

	first := batch(600, 100)
	g, err := db.BeginGroup(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.Write(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	refusedByKey(out, 100)
	if err := g.Commit(ctx, first.Progress); err != nil {
		t.Fatal(err)
	}
	alone := batch(300, 299)
	if out, err = db.WriteBatch(ctx, alone); err != nil {
		t.Fatal(err)
	}
	refusedByKey(out, 299)

	var rows, orphans int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE item_id = $1) FROM transactions`, gone).Scan(&rows, &orphans); err != nil {
		t.Fatal(err)
	}
	if rows != 898 || orphans != 0 {
		t.Errorf("%d rows, %d of a missing item; want 898 and none", rows, orphans)
	}
	pgtest.CheckQuantities(t, conn)
}
