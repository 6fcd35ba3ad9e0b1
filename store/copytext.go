package store

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// appendCopyRow appends one row of transactions in COPY's text format.
func appendCopyRow(buf *bytes.Buffer, runID int64, r *Row) {
	var num [20]byte
	buf.Write(strconv.AppendInt(num[:0], runID, 10))
	buf.WriteByte('\t')
	buf.Write(strconv.AppendInt(num[:0], r.Line, 10))
	buf.WriteByte('\t')
	buf.Write(strconv.AppendInt(num[:0], r.Record, 10))
	buf.WriteByte('\t')
	copyText(buf, r.Account)
	buf.WriteByte('\t')
	buf.Write(strconv.AppendInt(num[:0], *r.ItemID, 10))
	buf.WriteByte('\t')
	copyText(buf, r.InvoiceNumber)
	buf.WriteByte('\t')
	buf.WriteString(r.InvoiceDate)
	buf.WriteByte('\t')
	copyText(buf, r.Vendor)
	buf.WriteByte('\t')
	copyNullable(buf, r.VendorSKU)
	buf.WriteByte('\t')
	copyText(buf, r.Description)
	buf.WriteByte('\t')
	buf.WriteString(r.Quantity.String())
	buf.WriteByte('\t')
	copyNullable(buf, r.Unit)
	buf.WriteByte('\t')
	buf.WriteString(r.UnitCost.String())
	buf.WriteByte('\t')
	copyNullable(buf, r.Pack)
	buf.WriteByte('\t')
	buf.WriteString(r.BaseQuantity.String())
	buf.WriteByte('\n')
}

func copyNullable(buf *bytes.Buffer, s string) {
	if s == "" {
		buf.WriteString(`\N`)
		return
	}
	copyText(buf, s)
}

// copyText escapes what COPY's text format gives a meaning to: backslash,
// and the tab, newline and carriage return that separate columns and rows.
func copyText(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\t':
			esc = `\t`
		case '\n':
			esc = `\n`
		case '\r':
			esc = `\r`
		default:
			continue
		}
		buf.WriteString(s[start:i])
		buf.WriteString(esc)
		start = i + 1
	}
	buf.WriteString(s[start:])
}

// transactionColumns is the column list of every COPY into transactions.
const transactionColumns = `run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
	vendor, vendor_sku, description, quantity, unit, unit_cost, pack, base_quantity`

// copyRows sends the rows in one COPY, in PostgreSQL's text format, which
// costs the client far less than the binary encoding of numerics. The rows
// are encoded before the COPY starts: pgconn reads its source on a
// goroutine of its own, which may outlive a failed CopyFrom, so the source
// is a buffer that nothing else touches until a COPY from it succeeded.
func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, runID int64, rows []*Row) error {
	if len(rows) == 0 {
		return nil
	}
	buf := s.copyBuf
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	for _, r := range rows {
		appendCopyRow(buf, runID, r)
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), `COPY transactions (`+transactionColumns+`) FROM STDIN`)
	// The buffer is used again only when the COPY's reader is known done.
	s.copyBuf = nil
	if err == nil {
		s.copyBuf = buf
	}
	return err
}

// stockSums are the quantities rows add to their items, summed per item
// until the transaction's end: one UPDATE per item per transaction, however
// many batches it carries.
type stockSums map[stockKey]decimal.Decimal

type stockKey struct {
	account string
	id      int64
}

func (s stockSums) add(rows []*Row) stockSums {
	for _, r := range rows {
		k := stockKey{r.Account, *r.ItemID}
		s[k] = s[k].Add(r.BaseQuantity)
	}
	return s
}

// apply adds the sums to the items' quantities in one statement, in
// (account, id) order, so that concurrent imports lock items in the same
// order.
func (s stockSums) apply(ctx context.Context, tx pgx.Tx) error {
	if len(s) == 0 {
		return nil
	}
	keys := make([]stockKey, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b stockKey) int { return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.id, b.id)) })
	accounts, ids, deltas := make([]string, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		accounts[i], ids[i], deltas[i] = k.account, k.id, s[k].String()
	}
	_, err := tx.Exec(ctx, `UPDATE inventory_items AS i SET quantity = i.quantity + d.delta
		FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS u(account, id, delta) ORDER BY account, id) AS d
		WHERE i.account = d.account AND i.id = d.id`, accounts, ids, deltas)
	return err
}
