package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/batchimport/batchimport/internal/fixed"
)

// EncodeRow appends a row of transactions, in the order of
// transactionColumns, in COPY's binary format to dst. The writer encodes a
// batch's rows into the one buffer it sends: encoding them ahead, as the
// importer read them, allocated 229 MB per 1M lines for a copy the writer
// then made, and with two writers saved nothing.
//
// Binary rather than text: the server then reads dates, numerics and
// bigints without parsing them, which saves it about a second of CPU per
// million rows, on the path every row takes; and text needs no escaping.
func EncodeRow(dst []byte, runID int64, r *Row) []byte {
	dst = binary.BigEndian.AppendUint16(dst, 15) // fields
	dst = binInt8(dst, runID)
	dst = binInt8(dst, r.Line)
	dst = binInt8(dst, r.Record)
	dst = binText(dst, r.Account)
	dst = binInt8(dst, *r.ItemID)
	dst = binText(dst, r.InvoiceNumber)
	dst = binDate(dst, r.InvoiceDate)
	dst = binText(dst, r.Vendor)
	dst = binNullable(dst, r.VendorSKU)
	dst = binText(dst, r.Description)
	dst = binNumeric(dst, r.Quantity)
	dst = binNullable(dst, r.Unit)
	dst = binNumeric(dst, r.UnitCost)
	dst = binNullable(dst, r.Pack)
	return binNumeric(dst, r.BaseQuantity)
}

// copyHeader and copyTrailer frame the rows of a binary COPY.
var (
	copyHeader  = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	copyTrailer = []byte{0xff, 0xff}
)

func binInt8(dst []byte, v int64) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 8)
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

func binText(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func binNullable(dst []byte, s string) []byte {
	if s == "" {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff) // NULL
	}
	return binText(dst, s)
}

// binDate writes a YYYY-MM-DD date as days since 2000-01-01. What is not
// such a date from year 1 on (Validate lets nothing else through) is
// written as a day the server refuses, so that the row is rejected rather
// than stored as another date.
func binDate(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, 4)
	days := int64(math.MinInt32 + 1) // MinInt32 itself is -infinity
	if y, m, d, ok := parseISODate(s); ok {
		days = daysFromCivil(y, m, d) - daysFromCivil(2000, 1, 1)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(days)))
}

func parseISODate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	num := func(t string) int {
		n := 0
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return -1
			}
			n = 10*n + int(t[i]-'0')
		}
		return n
	}
	y, m, d = num(s[:4]), num(s[5:7]), num(s[8:])
	return y, m, d, y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// daysFromCivil counts the days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// binNumeric writes a decimal as PostgreSQL's numeric: base-10000 digits
// around the decimal point, with the decimal's scale as display scale. The
// digits are taken from the coefficient by division, the integer part's
// from the right, the fraction's from the left; the last group of a
// fraction whose digits are no multiple of four is padded with zeros.
func binNumeric(dst []byte, v fixed.Decimal) []byte {
	c := v.Coef()
	sign := uint16(0)
	if c < 0 {
		c, sign = -c, 0x4000 // no Decimal holds MinInt64
	}
	scale := int(v.Scale())
	ip, fp := uint64(c)/pow10[scale], uint64(c)%pow10[scale]
	var g [10]uint16 // an int64 has 19 digits: 5 groups on each side at most
	n := 0
	for q := ip; q > 0; q /= 10000 {
		n++
	}
	weight := n - 1 // of the first group: groups before the point, less one
	for i, q := n-1, ip; q > 0; i, q = i-1, q/10000 {
		g[i] = uint16(q % 10000)
	}
	rest := scale
	for ; rest >= 4; n++ {
		rest -= 4
		g[n], fp = uint16(fp/pow10[rest]), fp%pow10[rest]
	}
	if rest > 0 {
		g[n] = uint16(fp * pow10[4-rest])
		n++
	}
	groups := g[:n]
	// Leading and trailing zero groups are not stored.
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight = 0
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(8+2*len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(scale))
	for _, x := range groups {
		dst = binary.BigEndian.AppendUint16(dst, x)
	}
	return dst
}

// pow10 are the powers of ten a Decimal's scale takes.
var pow10 = [fixed.MaxDigits + 1]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// transactionColumns is the column list of every COPY into transactions.
const transactionColumns = `run_id, line_no, record_no, account, item_id, invoice_number, invoice_date,
	vendor, vendor_sku, description, quantity, unit, unit_cost, pack, base_quantity`

// copyRows sends the rows in one binary COPY, after the commands in before,
// in the same query. The rows are encoded before
// the COPY starts: pgconn reads its source on a goroutine of its own, which
// may outlive a failed CopyFrom, so the source is a buffer that nothing
// else touches until a COPY from it has ended with the connection open.
func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, runID int64, rows []*Row, before string) error {
	if len(rows) == 0 {
		return nil
	}
	buf := append(s.copyBuf[:0], copyHeader...)
	for _, r := range rows {
		buf = EncodeRow(buf, runID, r)
	}
	buf = append(buf, copyTrailer...)
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), before+copyChecked)
	// The buffer is used again only when the COPY's reader is known done:
	// after a success, or an error that left the connection open (pgconn
	// waits for its reader then; it closes the connection on the paths
	// that do not).
	s.copyBuf = nil
	if err == nil || !tx.Conn().IsClosed() {
		s.copyBuf = buf
	}
	return err
}

// copyChecked is a COPY into transactions with its foreign keys
// (transactionKeys) checked by a statement of their own right after it,
// in the same query: not at the COPY's end, where every check paid for
// the COPY's buffered rows in the server (migration 0012 says how).
//
// The check of each row is a query each connection plans once, the first
// time it runs. Planned with import_runs still a page or two, as it is for
// months, it scans the table, and a scan asks the kernel the table's size:
// a system call per row. So the checks run with enable_seqscan off, for
// themselves alone, and are planned with the primary key; every COPY has
// them checked here, so that no check is planned elsewhere first.
//
// An operator's own deferred constraints are left to the commit.
const copyChecked = `SET CONSTRAINTS ` + transactionKeys + ` DEFERRED; ` +
	`COPY transactions (` + transactionColumns + `) FROM STDIN (FORMAT binary); ` +
	`SET LOCAL enable_seqscan = off; SET CONSTRAINTS ` + transactionKeys + ` IMMEDIATE; SET LOCAL enable_seqscan TO DEFAULT`

// transactionKeys are the foreign keys of transactions, deferrable
// (migration 0012).
const transactionKeys = `transactions_run_id_fkey, transactions_account_item_id_fkey`

// stockSums are the quantities rows add to their items, summed per item
// until the transaction's end: one UPDATE per item per transaction, however
// many batches it carries. The sums are held by value: a batch of 3,000
// rows has about as many items, and a pointer to each cost an allocation.
type stockSums map[StockKey]stockSum

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
		k := StockKey{r.Account, *r.ItemID}
		sum := s[k]
		sum.add(r.BaseQuantity)
		s[k] = sum
	}
	return s
}

// merge adds the sums of t.
func (s stockSums) merge(t stockSums) {
	for k, u := range t {
		sum, ok := s[k]
		if !ok {
			s[k] = u
			continue
		}
		if n := sum.milli + u.milli; n < maxMilli && n > -maxMilli {
			sum.milli = n
		} else {
			sum.rest = sum.rest.Add(decimal.New(u.milli, -3))
		}
		if !u.rest.IsZero() {
			sum.rest = sum.rest.Add(u.rest)
		}
		s[k] = sum
	}
}

func (s *stockSum) add(d fixed.Decimal) {
	if e := d.Scale(); e <= 3 && d.Coef() < 1e15 && d.Coef() > -1e15 {
		m := d.Coef()
		for ; e < 3; e++ {
			m *= 10 // to thousandths
		}
		if n := s.milli + m; n < maxMilli && n > -maxMilli {
			s.milli = n
			return
		}
	}
	s.rest = s.rest.Add(d.Decimal())
}

// appendText appends the sum as the UPDATE reads it: without a decimal's
// big.Int while it is thousandths alone.
func (s stockSum) appendText(b []byte) []byte {
	if !s.rest.IsZero() {
		return append(b, s.total().String()...)
	}
	m := s.milli
	if m < 0 { // |milli| < maxMilli: -m fits
		m, b = -m, append(b, '-')
	}
	return append(strconv.AppendInt(b, m/1000, 10), '.', byte('0'+m/100%10), byte('0'+m/10%10), byte('0'+m%10))
}

func (s stockSum) total() decimal.Decimal {
	return decimal.New(s.milli, -3).Add(s.rest)
}

// apply adds the sums to the items' quantities in one statement, in
// (account, id) order, so that concurrent imports lock items in the same
// order.
//
// The three columns go as array literals, each one text parameter the
// server parses: pgx encodes an array element by element, through an
// interface each, which cost a group of 3,000 items about a megabyte of
// garbage.
func (s stockSums) apply(ctx context.Context, tx pgx.Tx) error {
	if len(s) == 0 {
		return nil
	}
	keys := make([]StockKey, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b StockKey) int { return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.ID, b.ID)) })
	accounts, ids, deltas := []byte{'{'}, []byte{'{'}, []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			accounts, ids, deltas = append(accounts, ','), append(ids, ','), append(deltas, ',')
		}
		accounts = appendArrayText(accounts, k.Account)
		ids = strconv.AppendInt(ids, k.ID, 10)
		deltas = s[k].appendText(deltas)
	}
	accounts, ids, deltas = append(accounts, '}'), append(ids, '}'), append(deltas, '}')
	_, err := tx.Exec(ctx, `UPDATE inventory_items AS i SET quantity = i.quantity + d.delta
		FROM (SELECT * FROM unnest($1::text::text[], $2::text::bigint[], $3::text::numeric[]) AS u(account, id, delta) ORDER BY account, id) AS d
		WHERE i.account = d.account AND i.id = d.id`, customPlan, string(accounts), string(ids), string(deltas))
	return err
}

// appendArrayText appends s as an element of an array literal: quoted,
// with its quotes and backslashes escaped.
func appendArrayText(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}
