package store_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
	"github.com/batchimport/batchimport/internal/pgtest"
	"github.com/batchimport/batchimport/store"
)

// Rows encoded by EncodeRow read back from PostgreSQL as written: every
// value's text, as the server prints it, is the one the row had.
func TestEncodeRowBinaryCopy(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE tx (LIKE transactions INCLUDING DEFAULTS INCLUDING IDENTITY)`); err != nil {
		t.Fatal(err)
	}
	// The numerics cover every position of the decimal point in base-10000
	// groups, zeros, signs, and the limits of numeric(18,3) and (18,4).
	numbers := []string{"0", "1", "-1", "12.5", "-0.001", "0.0001", "1234.5678", "10000", "99999999999999.9999",
		"-999999999999999.999", "0.010", "1.50", "1000.000", "123456789012345.678", "7", "-0.0010", "20000.0001", "1e3", "-2.5e2"}
	dates := []string{"2026-11-30", "2000-01-01", "1999-12-31", "0001-01-01", "2024-02-29", "9999-12-31", "1970-01-01"}
	texts := []string{"plain", "tab\there", "new\nline", `back\slash`, "Jalapeño 日本酒", "\\N", ""}
	buf := bytes.NewBuffer(append([]byte(nil), store.CopyFrame[0]...))
	var want []string
	for i, n := range numbers {
		id := int64(i + 1)
		d := decimal.RequireFromString(n).Truncate(3)
		price := decimal.RequireFromString(numbers[len(numbers)-1-i]).Abs().Truncate(4)
		if price.GreaterThanOrEqual(decimal.New(1, 14)) {
			price = price.Shift(-2).Truncate(4)
		}
		q, qok := fixed.FromDecimal(d)
		p, pok := fixed.FromDecimal(price)
		if !qok || !pok {
			t.Fatalf("%s or %s is no row's", d, price)
		}
		r := store.Row{Line: int64(i) * 1e12, Record: -id, Account: texts[i%len(texts)] + "a", ItemID: &id,
			InvoiceNumber: texts[(i+1)%len(texts)] + "n", InvoiceDate: dates[i%len(dates)], Vendor: "v", VendorSKU: texts[i%len(texts)],
			Description: "d", Quantity: q, Unit: texts[(i+2)%len(texts)], UnitCost: p, Pack: "", BaseQuantity: q}
		enc := store.EncodeRow(nil, 42, &r)
		buf.Write(enc)
		null := func(s string) string {
			if s == "" {
				return "<null>"
			}
			return s
		}
		want = append(want, fmt.Sprintf("42|%d|%d|%s|%d|%s|%s|v|%s|d|%s|%s|%s|<null>|%s", r.Line, r.Record, r.Account, id, r.InvoiceNumber,
			r.InvoiceDate, null(r.VendorSKU), d.StringFixed(3), null(r.Unit), price.StringFixed(4), d.StringFixed(3)))
	}
	buf.Write(store.CopyFrame[1])
	_, err := conn.PgConn().CopyFrom(ctx, buf, `COPY tx (run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
		vendor, vendor_sku, description, quantity, unit, unit_cost, pack, base_quantity) FROM STDIN (FORMAT binary)`)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT concat_ws('|', run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
		vendor, coalesce(vendor_sku, '<null>'), description, quantity, coalesce(unit, '<null>'), unit_cost, coalesce(pack, '<null>'), base_quantity)
		FROM tx ORDER BY item_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A date the server cannot hold is refused by it, never stored as another.
func TestEncodeRowBadDateRefused(t *testing.T) {
	cfg := pgtest.Schema(t)
	conn := pgtest.Conn(t, cfg)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE tx (LIKE transactions INCLUDING DEFAULTS INCLUDING IDENTITY)`); err != nil {
		t.Fatal(err)
	}
	for _, date := range []string{"0000-01-01", "2026-1-01", "not a date"} {
		id := int64(1)
		r := store.Row{Account: "a", ItemID: &id, InvoiceNumber: "n", InvoiceDate: date, Vendor: "v", Description: "d",
			Quantity: fixed.New(1, 0), UnitCost: fixed.New(1, 0), BaseQuantity: fixed.New(1, 0)}
		buf := append(append(append([]byte(nil), store.CopyFrame[0]...), store.EncodeRow(nil, 1, &r)...), store.CopyFrame[1]...)
		_, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(buf), `COPY tx (run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
			vendor, vendor_sku, description, quantity, unit, unit_cost, pack, base_quantity) FROM STDIN (FORMAT binary)`)
		if err == nil || !strings.Contains(err.Error(), "date out of range") {
			t.Errorf("date %q: COPY error %v, want date out of range", date, err)
		}
	}
}
