package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
)

// Reject is a record a run did not import: a row of rejects.
type Reject struct {
	Account  string // the run's account
	RunID    int64
	Record   int64 // the record's position in the input
	Line     int64 // physical line where it starts
	Raw      []byte
	Reason   string // field and rule, or SQLSTATE and message
	Rule     string // Reason less the offending value
	SQLState string
	Origin   Origin // the reject this record was, when it came back fixed
	Home     int64  // the run whose invoices the record belongs to
	// Settled: the record was imported already, its reject taken back by
	// another run: it is resolved by its own run as it is stored.
	Settled bool
}

// overflowError is a row whose quantity would take its item's stock out of
// numeric(18,3).
type overflowError struct{ err *pgconn.PgError }

func (e *overflowError) Error() string { return e.err.Error() }
func (e *overflowError) Unwrap() error { return e.err }

// stockOverflow makes a numeric overflow of a stock update an
// *overflowError, which names the field and rule; other errors stay.
func stockOverflow(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22003" {
		return &overflowError{err: pgErr}
	}
	return err
}

// ErrStockPast is a row that would take its item's stock to 10^15 or
// more: the database refuses the stock it adds (overflowError), and a
// read-only dry run, summing the stock itself (Stocks), tells it by this.
var ErrStockPast = errors.New("quantity: would take its item's stock to 10^15 or more, beyond what a stock holds (numeric(18,3), SQLSTATE 22003)")

// StockKey is an item, by account and id: whose stock a transaction sums
// (stockSums), or a dry run reads (Stocks).
type StockKey struct {
	Account string
	ID      int64
}

// Stocks reads the stock of items: for a read-only dry run, which sums
// what its rows would add to it.
func (s *Store) Stocks(ctx context.Context, keys []StockKey) (map[StockKey]decimal.Decimal, error) {
	out := make(map[StockKey]decimal.Decimal, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	accounts, ids := make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		accounts[i], ids[i] = k.Account, k.ID
	}
	rows, err := s.q().Query(ctx, `SELECT i.account, i.id, i.quantity::text FROM unnest($1::text[], $2::bigint[]) AS u(a, id)
		JOIN inventory_items i ON i.account = u.a AND i.id = u.id`, customPlan, accounts, ids)
	if err != nil {
		return nil, s.lost(err)
	}
	var k StockKey
	var q string
	_, err = pgx.ForEachRow(rows, []any{&k.Account, &k.ID, &q}, func() error {
		d, err := decimal.NewFromString(q)
		out[k] = d
		return err
	})
	return out, s.lost(err)
}

// errPastAStock is a row whose quantity in its item's base unit is
// 10^15 or more: the database refuses it.
var errPastAStock = errors.New("quantity: is 10^15 or more in its item's base unit, beyond what a stock holds (numeric(18,3), SQLSTATE 22003)")

// PastAStock says whether the database refuses the row for its quantity in
// its item's base unit, which no stock can hold (errPastAStock), for a
// read-only dry run to tell without writing it.
func PastAStock(r *Row) error {
	if r.BaseQuantity.AtLeastPow10(15) {
		return errPastAStock
	}
	return nil
}

// RowReject is the reject of a row the database refused with err.
func RowReject(record, line int64, raw []byte, err error) Reject {
	if errors.As(err, new(*overflowError)) || errors.Is(err, ErrStockPast) {
		rule := ErrStockPast.Error()
		return Reject{Record: record, Line: line, Raw: raw, Reason: rule, Rule: rule, SQLState: "22003"}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22003" && strings.Contains(pgErr.Where, "column base_quantity") || errors.Is(err, errPastAStock) {
		// The quantity in the item's base unit, which a conversion made.
		rule := errPastAStock.Error()
		return Reject{Record: record, Line: line, Raw: raw, Reason: rule, Rule: rule, SQLState: "22003"}
	}
	r := Reject{Record: record, Line: line, Raw: raw, Reason: "database refused the row: " + err.Error(), Rule: err.Error()}
	var refusal *Refusal
	if errors.As(err, &refusal) {
		r.Reason, r.Rule = refusal.Reason, refusal.Rule
	}
	if pgErr != nil {
		r.SQLState = pgErr.Code
		r.Rule = "SQLSTATE " + pgErr.Code + ": " + pgErr.Message
		r.Reason = "database refused the row: " + r.Rule
		if pgErr.Detail != "" {
			r.Reason += " (" + pgErr.Detail + ")"
		}
	}
	return r
}

// text makes s storable as text: valid UTF-8, no NUL.
func text(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

var rejectColumns = []string{"account", "run_id", "record_no", "line_no", "raw", "reason", "rule", "sqlstate", "home_run", "resolved_by"}

// insertRejects stores rejects in one COPY.
func (s *Store) insertRejects(ctx context.Context, tx pgx.Tx, rs []Reject) error {
	if len(rs) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"rejects"}, rejectColumns, pgx.CopyFromSlice(len(rs), func(i int) ([]any, error) {
		r := &rs[i]
		var resolvedBy *int64
		if r.Settled {
			resolvedBy = &r.RunID
		}
		return []any{r.Account, r.RunID, r.Record, r.Line, r.Raw, text(r.Reason), text(r.Rule), nullable(r.SQLState), r.Home, resolvedBy}, nil
	}))
	return err
}

// EachReject calls fn with each reject of a run, in record order, streaming
// them so that memory does not grow with their number.
func (s *Store) EachReject(ctx context.Context, run Run, fn func(Reject) error) error {
	rows, err := s.q().Query(ctx, `SELECT record_no, line_no, raw, reason, rule, coalesce(sqlstate, '')
		FROM rejects WHERE account = $1 AND run_id = $2 ORDER BY record_no`, run.Account, run.ID)
	if err != nil {
		return s.lost(err)
	}
	defer rows.Close()
	r := Reject{Account: run.Account, RunID: run.ID}
	for rows.Next() {
		if err := rows.Scan(&r.Record, &r.Line, &r.Raw, &r.Reason, &r.Rule, &r.SQLState); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return s.lost(rows.Err())
}

// CommonestRule returns the rule most of a run's rejects break, and how
// many do.
func (s *Store) CommonestRule(ctx context.Context, run Run) (string, int64, error) {
	var rule string
	var n int64
	err := s.q().QueryRow(ctx, `SELECT rule, count(*) FROM rejects WHERE account = $1 AND run_id = $2
		GROUP BY rule ORDER BY count(*) DESC, rule COLLATE "C" LIMIT 1`, run.Account, run.ID).Scan(&rule, &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, nil
	}
	return rule, n, s.lost(err)
}
