package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// migratedTo is a schema of its own migrated to version n, with the store
// that migrates it further and a connection to put data in.
func migratedTo(t *testing.T, n int) (*store.Store, *pgx.Conn) {
	t.Helper()
	cfg := pgtest.EmptySchema(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(ctx) })
	if _, err := db.MigrateTo(ctx, n); err != nil {
		t.Fatal(err)
	}
	return db, pgtest.Conn(t, cfg)
}

// Data imported before units were converted keeps its stock exactly: each
// row's base quantity is its quantity as read (SPEC §13, "migrate existing
// data").
func TestUnitsMigrationKeepsStock(t *testing.T) {
	ctx := context.Background()
	db, conn := migratedTo(t, 3)
	// "3 CS + 12 gal + 3 CS = 18": stock as the tool kept it before units.
	for _, q := range []string{
		`INSERT INTO inventory_items (account, id, name, normalized_name, unit, quantity) VALUES ('a', 1, 'Whole Milk 1 Gal', 'milk whole', 'CS', 18.5)`,
		`INSERT INTO import_runs (id, source_key, source_name, account, status) VALUES (1, 'k', 'may.csv', 'a', 'success')`,
		`INSERT INTO transactions (account, run_id, line_no, record_no, item_id, invoice_number, invoice_date, vendor, description, quantity, unit, unit_cost)
		 VALUES ('a', 1, 2, 1, 1, 'I-1', '2026-05-01', 'Sysco', 'Whole Milk 1 Gal', 3, 'CS', 15),
		        ('a', 1, 3, 2, 1, 'I-1', '2026-05-01', 'Sysco', 'Whole Milk 1 Gal', 12.5, 'gal', 3.9),
		        ('a', 1, 4, 3, 1, 'I-1', '2026-05-01', 'Sysco', 'Whole Milk 1 Gal', 3, 'CS', 15)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var stock, sum string
	var mismatched int
	if err := conn.QueryRow(ctx, `SELECT (SELECT quantity::text FROM inventory_items WHERE id = 1),
		(SELECT sum(base_quantity)::text FROM transactions), (SELECT count(*) FROM transactions WHERE base_quantity <> quantity)`).
		Scan(&stock, &sum, &mismatched); err != nil {
		t.Fatal(err)
	}
	if stock != "18.500" || sum != "18.500" || mismatched != 0 {
		t.Errorf("after migrating: stock %s, sum of base quantities %s, %d rows whose base quantity is not their quantity; want 18.500, 18.500, 0", stock, sum, mismatched)
	}
}

// Invoices whose vendors read the same once punctuation and spaces are
// dropped become one, kept by the run that imported it first; the
// database keys a vendor as store.InvoiceVendor does.
func TestInvoiceVendorMigration(t *testing.T) {
	ctx := context.Background()
	db, conn := migratedTo(t, 10)
	for _, q := range []string{
		`INSERT INTO import_runs (id, source_key, source_name, account, status) VALUES (1, 'k1', 'a.csv', 'a', 'success'), (2, 'k2', 'b.csv', 'a', 'success')`,
		`INSERT INTO invoices (account, vendor, invoice_number, run_id) VALUES
		 ('a', 'us foods', 'P-1', 2), ('a', 'u.s. foods', 'P-1', 1), ('a', 'us  foods', 'P-1', 2),
		 ('a', 'u.s. foods', 'P-2', 2), ('a', 'sysco', 'P-1', 2), ('b', 'us-foods', 'P-1', 2),
		 ('a', 'sysco', E'Q-1\u200b', 1), ('a', 'sysco', 'Q-1', 2), ('a', E'sys\u00a0co', 'Q-2', 2), ('a', 'sysco', E'Q-3\u00ad', 2)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(ctx, `SELECT string_agg(format('%s|%s|%s|%s', account, vendor, invoice_number, run_id), ' ' ORDER BY account, vendor COLLATE "C", invoice_number COLLATE "C")
		FROM invoices`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "a|sys co|Q-2|2 a|sysco|P-1|2 a|sysco|Q-1|1 a|sysco|Q-3|2 a|us foods|P-1|1 a|us foods|P-2|2 b|us foods|P-1|2"; got != want {
		t.Errorf("invoices after migrating:\n%s\nwant\n%s", got, want)
	}
	for _, v := range []string{"US Foods", "U.S. Foods", " US\t Foods ", "US-Foods", "us_foods/west", "Ben & Jerry's", "O'Brien (Produce), Inc.",
		"A+B=C #1 @home $5 ~x| y\\z`q", "---", "...", "US\tFoods", "US\u00a0Foods", "US\u202f\u3000Foods", "Sys\u200bco\ufeff", "Épicerie Café", "Sysco", "GFS - Gordon Food Service", "[Acme] {Corp} <Ltd>!?:;%^*"} {
		var sql string
		if err := conn.QueryRow(ctx, `SELECT invoice_vendor($1)`, v).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		if goKey := store.InvoiceVendor(v); goKey != sql {
			t.Errorf("vendor %q: Go keys it %q, the database %q", v, goKey, sql)
		}
	}
}
