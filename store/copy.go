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

// EncodeRow appends a row of transactions in COPY's text format to dst.
// The importer encodes the rows of items whose id is known as it reads
// them (Row.Encoded), off the path of the writer, which waits for nothing
// but the database then.
func EncodeRow(dst []byte, runID int64, r *Row) []byte {
	dst = strconv.AppendInt(dst, runID, 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, r.Line, 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, r.Record, 10)
	dst = append(dst, '\t')
	dst = copyText(dst, r.Account)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, *r.ItemID, 10)
	dst = append(dst, '\t')
	dst = copyText(dst, r.InvoiceNumber)
	dst = append(dst, '\t')
	dst = append(dst, r.InvoiceDate...)
	dst = append(dst, '\t')
	dst = copyText(dst, r.Vendor)
	dst = append(dst, '\t')
	dst = copyNullable(dst, r.VendorSKU)
	dst = append(dst, '\t')
	dst = copyText(dst, r.Description)
	dst = append(dst, '\t')
	dst = appendDecimal(dst, r.Quantity)
	dst = append(dst, '\t')
	dst = copyNullable(dst, r.Unit)
	dst = append(dst, '\t')
	dst = appendDecimal(dst, r.UnitCost)
	dst = append(dst, '\t')
	dst = copyNullable(dst, r.Pack)
	dst = append(dst, '\t')
	dst = appendDecimal(dst, r.BaseQuantity)
	return append(dst, '\n')
}

// appendDecimal appends a decimal in plain notation. Decimal.String goes
// through big.Int; a coefficient of up to 18 digits, as every invoice
// decimal has, is written with strconv instead.
func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	e := d.Exponent()
	if d.NumDigits() > 18 || e > 0 || e < -18 {
		return append(dst, d.String()...)
	}
	c := d.CoefficientInt64()
	if c < 0 {
		dst = append(dst, '-')
		c = -c
	}
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], c, 10)
	frac := int(-e)
	if frac == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= frac {
		dst = append(dst, '0', '.')
		for range frac - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-frac]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-frac:]...)
}

func copyNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, `\N`...)
	}
	return copyText(dst, s)
}

// copyText escapes what COPY's text format gives a meaning to: backslash,
// and the tab, newline and carriage return that separate columns and rows.
func copyText(dst []byte, s string) []byte {
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
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		start = i + 1
	}
	return append(dst, s[start:]...)
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
	buf := s.copyBuf[:0]
	for _, r := range rows {
		if r.Encoded != nil {
			buf = append(buf, r.Encoded...)
		} else {
			buf = EncodeRow(buf, runID, r)
		}
	}
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), `COPY transactions (`+transactionColumns+`) FROM STDIN`)
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
type stockSums map[stockKey]*stockSum

type stockKey struct {
	account string
	id      int64
}

// stockSum is exact: thousandths in an int64 while they fit, which every
// stock quantity (numeric(18,3)) does, and a decimal for anything else.
// Decimal.Add alone, through big.Int, cost the writer a second per million
// rows, between one batch's COPY and the next.
type stockSum struct {
	milli int64
	rest  decimal.Decimal
}

// maxMilli bounds a sum of thousandths well inside an int64, so that
// adding one more (of at most 10^18) cannot overflow.
const maxMilli = 1 << 62

func (s stockSums) add(rows []*Row) stockSums {
	for _, r := range rows {
		k := stockKey{r.Account, *r.ItemID}
		sum := s[k]
		if sum == nil {
			sum = &stockSum{}
			s[k] = sum
		}
		sum.add(r.BaseQuantity)
	}
	return s
}

func (s *stockSum) add(d decimal.Decimal) {
	if e := d.Exponent(); e >= -3 && e <= 0 && d.NumDigits() <= 15 {
		m := d.CoefficientInt64()
		for ; e > -3; e-- {
			m *= 10 // to thousandths
		}
		if n := s.milli + m; n < maxMilli && n > -maxMilli {
			s.milli = n
			return
		}
	}
	s.rest = s.rest.Add(d)
}

func (s *stockSum) total() decimal.Decimal {
	return decimal.New(s.milli, -3).Add(s.rest)
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
		accounts[i], ids[i], deltas[i] = k.account, k.id, s[k].total().String()
	}
	_, err := tx.Exec(ctx, `UPDATE inventory_items AS i SET quantity = i.quantity + d.delta
		FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS u(account, id, delta) ORDER BY account, id) AS d
		WHERE i.account = d.account AND i.id = d.id`, accounts, ids, deltas)
	return err
}
