package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// keysFixture is a run of account acme and an item, Figs, to write rows
// of: batch(n, orphan) is the run's next n rows, row orphan of which
// names an item that does not exist (-1: none does).
type keysFixture struct {
	db    *store.Store
	conn  *pgx.Conn
	item  int64
	batch func(n, orphan int) *store.Batch
}

// acmeRun opens a store on a schema of its own, with a run of account
// acme owned by "o", and a connection of the test's to the same schema.
func acmeRun(t *testing.T) (*store.Store, *pgx.Conn, store.Run) {
	t.Helper()
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	run, err := db.CreateRun(ctx, store.NewRun{SourceKey: "k", SourceName: "x.csv", Account: "acme", Owner: "o"})
	if err != nil {
		t.Fatal(err)
	}
	return db, conn, run
}

func newKeysFixture(t *testing.T, invoiceOf func(line int64) string) keysFixture {
	t.Helper()
	ctx := context.Background()
	db, conn, run := acmeRun(t)
	f := keysFixture{db: db, conn: conn}
	if err := conn.QueryRow(ctx, `INSERT INTO inventory_items (account, name, normalized_name, unit) VALUES ('acme', 'Figs', 'figs', 'ea') RETURNING id`).Scan(&f.item); err != nil {
		t.Fatal(err)
	}
	gone := f.item + 1000
	line := int64(0)
	f.batch = func(n, orphan int) *store.Batch {
		b := &store.Batch{RunID: run.ID, Account: "acme", Owner: "o", From: line, Ends: []int{n}, Raw: func(int) []byte { return []byte("raw") }}
		for i := range n {
			line++
			id := &f.item
			if i == orphan {
				id = &gone
			}
			b.Rows = append(b.Rows, store.Row{Line: line, Record: line, Account: "acme", ItemID: id, InvoiceNumber: invoiceOf(line),
				InvoiceDate: "2026-05-04", Vendor: "Sysco", Description: "Figs", Quantity: fixed.New(1, 0), BaseQuantity: fixed.New(1, 0),
				UnitCost: fixed.New(1, 0)})
		}
		b.Progress = store.Progress{Record: line, Line: line, RowsRead: line, RowsImported: line, Chunks: 1}
		return b
	}
	return f
}

// A row whose item is gone is refused by the foreign key, checked after a
// COPY of many rows rather than at its end: in a group and in a batch of
// its own, that row alone is refused, with the key's SQLSTATE, and the
// others commit once, their stock with them.
func TestForeignKeyCheckedAfterTheCopyRefusesItsRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newKeysFixture(t, func(line int64) string { return fmt.Sprintf("INV-%d", line/10) })
	refusedByKey := func(out store.Outcome, want int) {
		t.Helper()
		var pe *pgconn.PgError
		if len(out.Refused) != 1 || out.Refused[0].Index != want || !errors.As(out.Refused[0].Err, &pe) || pe.Code != "23503" {
			t.Fatalf("refused %+v, want row %d alone, refused by its foreign key (23503)", out.Refused, want)
		}
	}

	first := f.batch(600, 100)
	g, err := f.db.BeginGroup(ctx, first)
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
	alone := f.batch(300, 299)
	if out, err = f.db.WriteBatch(ctx, alone); err != nil {
		t.Fatal(err)
	}
	refusedByKey(out, 299)

	var rows, orphans int
	gone := f.item + 1000
	if err := f.conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE item_id = $1) FROM transactions`, gone).Scan(&rows, &orphans); err != nil {
		t.Fatal(err)
	}
	if rows != 898 || orphans != 0 {
		t.Errorf("%d rows, %d of a missing item; want 898 and none", rows, orphans)
	}
	pgtest.CheckQuantities(t, f.conn)
}

// The check of each row's run, against an import_runs of one page, looks
// the run up by its primary key, in a COPY of a few rows (the first a
// connection checks: where its plan is made) as in a large one: a scan of
// the table would ask the kernel its size for every row. What the
// connection's checks did is read from the table's statistics, which its
// server process reports as it exits.
func TestRunKeyCheckedByIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newKeysFixture(t, func(int64) string { return "INV-1" })
	// As autovacuum leaves a table of a few runs: known to be one page.
	if _, err := f.conn.Exec(ctx, `VACUUM ANALYZE import_runs`); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rows := range []int{30, 1000, 1000} {
		b := f.batch(rows, -1)
		g, err := f.db.BeginGroup(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := g.Write(ctx, b); err != nil || len(out.Refused) > 0 {
			t.Fatalf("write: %v, refused %+v", err, out.Refused)
		}
		if err := g.Commit(ctx, b.Progress); err != nil {
			t.Fatal(err)
		}
		n += rows
	}
	f.db.Close(ctx)
	var scans, lookups int
	for deadline := time.Now().Add(20 * time.Second); ; {
		if err := f.conn.QueryRow(ctx, `SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables
			WHERE relid = 'import_runs'::regclass`).Scan(&scans, &lookups); err != nil {
			t.Fatal(err)
		}
		if scans+lookups >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lookups < n || scans > 10 {
		t.Errorf("import_runs: %d scans, %d index look-ups after %d rows were checked; want at least %d look-ups and at most 10 scans",
			scans, lookups, n, n)
	}
}
