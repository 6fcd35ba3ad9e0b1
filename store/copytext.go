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

// updateStock adds the deltas to their items in one statement, sorted by
// (account, id), so that concurrent imports lock items in the same order.
func (s *Store) updateStock(ctx context.Context, tx pgx.Tx, deltas map[deltaKey]decimal.Decimal) error {
	if len(deltas) == 0 {
		return nil
	}
	keys := make([]deltaKey, 0, len(deltas))
	for k := range deltas {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b deltaKey) int { return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.id, b.id)) })
	accounts, ids, sums := make([]string, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		accounts[i], ids[i], sums[i] = k.account, k.id, deltas[k].String()
	}
	_, err := tx.Exec(ctx, `UPDATE inventory_items AS i SET quantity = i.quantity + d.delta
		FROM (SELECT * FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS u(account, id, delta) ORDER BY account, id) AS d
		WHERE i.account = d.account AND i.id = d.id`, accounts, ids, sums)
	return err
}

// checkpoint records the run's progress, only if the checkpoint is still
// where this chunk started (compare and set).
func (s *Store) checkpoint(ctx context.Context, tx pgx.Tx, runID, from int64, p Progress) error {
	tag, err := tx.Exec(ctx, `UPDATE import_runs SET checkpoint_line = $3, rows_read = $4, rows_imported = $5,
		rows_rejected = $6, items_created = $7, fuzzy_matches = $8, chunks = $9, chunks_replayed = $10, rejects_bytes = $11,
		checkpoint_record = $12
		WHERE id = $1 AND checkpoint_record = $2`,
		runID, from, p.Line, p.RowsRead, p.RowsImported, p.RowsRejected, p.ItemsCreated, p.FuzzyMatches,
		p.Chunks, p.ChunksReplayed, p.RejectsBytes, p.Record)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return ErrCheckpointMoved
	}
	return nil
}
