//go:build linux

package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/batchimport/batchimport/mapping"
	"github.com/jackc/pgx/v5"
)

// roundTrip measures the pattern batching replaces (method c): one
// connection and, for every line, its own transaction with a SELECT of the
// item id through the stored mappings, an INSERT of the transaction row and
// an UPDATE of the item's quantity. It is what a straightforward importer
// does, and the baseline the ≥ 30× goal of issue 6 is measured against.
//
// It resolves as the importer's first two steps do (a stored mapping by
// SKU, else by normalized description, under the normalized vendor), using
// the mapping package's own normalization so that it finds the mappings the
// warm-up import stored; a line without a mapping is an error, since the
// warm-up import stored one for every key of the file.
// Statements are prepared once by pgx's statement cache, which is the
// round-trip pattern at its best.
//
// It returns the wall time and this process's CPU time spent, from the
// first statement to the last commit; reading the CSV is included, as it is
// in every other method.
func roundTrip(ctx context.Context, conn *pgx.Conn, schema string, cols []column, file string, lines int) (sample, int64, error) {
	s := pgx.Identifier{schema}.Sanitize()
	// The rows need a run to belong to (foreign key); it is created outside
	// the timing, as the import's own run row is created inside batchimport.
	var runID int64
	err := conn.QueryRow(ctx, `INSERT INTO `+s+`.import_runs (source_key, source_name, account, status)
		VALUES ('bench:roundtrip', $1, $2, 'running') RETURNING id`, file, benchAccount).Scan(&runID)
	if err != nil {
		return sample{}, 0, fmt.Errorf("round trip: create run: %w", err)
	}

	f, err := os.Open(file)
	if err != nil {
		return sample{}, 0, err
	}
	defer f.Close()

	selectItem := `SELECT item_id FROM ` + s + `.item_mappings
		WHERE account = $1 AND vendor = $2 AND key_kind = $3 AND key = $4`
	insertRow, insertArgs, err := buildInsert(s, cols)
	if err != nil {
		return sample{}, 0, err
	}
	updateItem := `UPDATE ` + s + `.inventory_items SET quantity = quantity + $1::text::numeric
		WHERE account = $2 AND id = $3`

	u0, s0 := selfCPU()
	start := time.Now()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header, in the generator's column order
		return sample{}, 0, err
	}
	var v rowValues
	v.runID = runID
	var inserted int64
	args := make([]any, len(insertArgs))
	for done := 0; done < lines; done++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sample{}, 0, err
		}
		line, _ := r.FieldPos(0)
		v.line, v.record = int64(line), int64(done+1)
		v.invoice, v.date, v.vendor = rec[0], rec[1], strings.TrimSpace(rec[2])
		v.sku, v.desc = strings.TrimSpace(rec[3]), strings.TrimSpace(rec[4])
		v.qty, v.unit, v.price = rec[5], strings.TrimSpace(rec[6]), rec[7]
		vendor, sku, desc, qty := v.vendor, v.sku, v.desc, v.qty

		tx, err := conn.Begin(ctx)
		if err != nil {
			return sample{}, 0, err
		}
		// The SKU first, then the description, as the importer resolves;
		// the description is normalized only when it is needed.
		var itemID int64
		vendorKey := mapping.NormalizeVendor(vendor)
		err = pgx.ErrNoRows
		if sku != "" {
			err = tx.QueryRow(ctx, selectItem, benchAccount, vendorKey, "sku", sku).Scan(&itemID)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			err = tx.QueryRow(ctx, selectItem, benchAccount, vendorKey, "description", mapping.DescriptionKey(desc)).Scan(&itemID)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			// A line the import rejects (its unit does not convert) may
			// have no mapping: the pattern skips it.
			_ = tx.Rollback(ctx)
			continue
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			return sample{}, 0, fmt.Errorf("round trip: line %d: look up item of %q / %q / %q: %w", line, vendor, sku, desc, err)
		}
		v.itemID = itemID
		for i, f := range insertArgs {
			args[i] = f(&v)
		}
		if _, err := tx.Exec(ctx, insertRow, args...); err != nil {
			_ = tx.Rollback(ctx)
			return sample{}, 0, fmt.Errorf("round trip: line %d: insert: %w", line, err)
		}
		if _, err := tx.Exec(ctx, updateItem, qty, benchAccount, itemID); err != nil {
			_ = tx.Rollback(ctx)
			return sample{}, 0, fmt.Errorf("round trip: line %d: update: %w", line, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return sample{}, 0, err
		}
		inserted++
	}
	wall := time.Since(start)
	u1, s1 := selfCPU()
	return sample{WallSeconds: wall.Seconds(), UserSeconds: (u1 - u0).Seconds(), SysSeconds: (s1 - s0).Seconds()}, inserted, nil
}

// rowValues are one line's values, as the importer would store them.
type rowValues struct {
	runID, line, record, itemID                        int64
	invoice, date, vendor, sku, desc, qty, unit, price string
}

// rowColumns says how each known column of transactions is filled, and
// with which SQL cast: dates and numerics are sent as text, as they appear
// in the file, and PostgreSQL parses them.
var rowColumns = map[string]struct {
	cast  string
	value func(v *rowValues) any
}{
	"run_id":         {"", func(v *rowValues) any { return v.runID }},
	"line_no":        {"", func(v *rowValues) any { return v.line }},
	"record_no":      {"", func(v *rowValues) any { return v.record }},
	"account":        {"", func(v *rowValues) any { return benchAccount }},
	"item_id":        {"", func(v *rowValues) any { return v.itemID }},
	"invoice_number": {"", func(v *rowValues) any { return v.invoice }},
	"invoice_date":   {"::text::date", func(v *rowValues) any { return v.date }},
	"vendor":         {"", func(v *rowValues) any { return v.vendor }},
	"vendor_sku":     {"", func(v *rowValues) any { return nullable(v.sku) }},
	"description":    {"", func(v *rowValues) any { return v.desc }},
	"quantity":       {"::text::numeric", func(v *rowValues) any { return v.qty }},
	// The pattern converts no unit: its stock is in the units as read.
	"base_quantity": {"::text::numeric", func(v *rowValues) any { return v.qty }},
	"unit":          {"", func(v *rowValues) any { return nullable(v.unit) }},
	"unit_cost":     {"::text::numeric", func(v *rowValues) any { return v.price }},
}

// buildInsert writes the INSERT of one transaction row for the table's
// columns, so that the pattern keeps up with the schema as it evolves. A
// required column it does not know how to fill is an error: the benchmark
// would otherwise measure a statement that fails.
func buildInsert(table string, cols []column) (string, []func(*rowValues) any, error) {
	var names, params []string
	var values []func(*rowValues) any
	for _, c := range cols {
		rc, ok := rowColumns[c.name]
		if !ok {
			if c.required {
				return "", nil, fmt.Errorf("round trip: transactions has a required column %q the benchmark does not know how to fill", c.name)
			}
			continue
		}
		names = append(names, pgx.Identifier{c.name}.Sanitize())
		params = append(params, fmt.Sprintf("$%d%s", len(params)+1, rc.cast))
		values = append(values, rc.value)
	}
	q := "INSERT INTO " + table + ".transactions (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	return q, values, nil
}

// nullable maps an empty optional field to NULL, as the importer stores it.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
