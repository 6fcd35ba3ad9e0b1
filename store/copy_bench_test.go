package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// BenchmarkCopyChunk compares the two ways of sending a 500-row chunk of
// transactions: PostgreSQL's text format built by hand (what WriteChunk
// does), and pgx's binary CopyFrom. Each op is one chunk in its own
// transaction. Run with: make test-bench or
// scripts/with-postgres.sh go test -run '^$' -bench CopyChunk ./store/
func BenchmarkCopyChunk(b *testing.B) {
	ctx := context.Background()
	cfg := pgtest.Schema(b)
	db, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	run, err := db.CreateRun(ctx, "bench", "bench", "acme", "")
	if err != nil {
		b.Fatal(err)
	}
	var itemID int64
	if err := db.Conn().QueryRow(ctx, `INSERT INTO inventory_items (account, name, normalized_name) VALUES ('acme', 'x', 'x') RETURNING id`).Scan(&itemID); err != nil {
		b.Fatal(err)
	}
	const chunk = 500
	rows := make([]store.Row, chunk)
	for i := range rows {
		rows[i] = store.Row{Account: "acme", ItemID: &itemID, InvoiceNumber: fmt.Sprintf("INV-%d", i), InvoiceDate: "2026-05-04",
			Vendor: "Sysco", VendorSKU: fmt.Sprintf("SY-%d", i), Description: "Chicken Breast Boneless Skinless 40 lb case",
			Quantity: decimal.RequireFromString(fmt.Sprintf("%d.%03d", i%50+1, i)), Unit: "case",
			UnitCost: decimal.RequireFromString(fmt.Sprintf("%d.%04d", i%90, i*7))}
	}
	next := int64(0)
	renumber := func() {
		for i := range rows {
			next++
			rows[i].Line, rows[i].Record = next, next
		}
	}
	b.Run("text", func(b *testing.B) {
		for b.Loop() {
			renumber()
			err := pgx.BeginFunc(ctx, db.Conn(), func(tx pgx.Tx) error { return db.CopyRows(ctx, tx, run.ID, rows) })
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("binary", func(b *testing.B) {
		cols := []string{"run_id", "line_no", "record_no", "account", "item_id", "invoice_number", "invoice_date",
			"vendor", "vendor_sku", "description", "quantity", "unit", "unit_cost"}
		for b.Loop() {
			renumber()
			err := pgx.BeginFunc(ctx, db.Conn(), func(tx pgx.Tx) error {
				_, err := tx.CopyFrom(ctx, pgx.Identifier{"transactions"}, cols, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
					r := &rows[i]
					var q, c pgtype.Numeric
					if err := q.Scan(r.Quantity.String()); err != nil {
						return nil, err
					}
					if err := c.Scan(r.UnitCost.String()); err != nil {
						return nil, err
					}
					return []any{run.ID, r.Line, r.Record, r.Account, *r.ItemID, r.InvoiceNumber, r.InvoiceDate,
						r.Vendor, store.Nullable(r.VendorSKU), r.Description, q, store.Nullable(r.Unit), c}, nil
				}))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "rows/s")
	})
}
