// Package store is everything batchimport says to PostgreSQL: the embedded
// migrations, loading an account's catalogue, import runs and their
// checkpoints, the per-source and per-account locks, the transaction that
// writes a chunk, and the corrections operators make (corrections.go:
// revert, items merge, mappings set), each one audited transaction.
// Every statement filters or joins on account, so the tables can be
// distributed by account on Citus.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultSchema is the schema used when --schema is not given.
const DefaultSchema = "batchimport"

// Config says where the database is and which schema holds the tables.
type Config struct {
	// URL is a PostgreSQL connection string (URL or key=value). Empty means
	// libpq's PG* environment variables and defaults.
	URL    string
	Schema string
	// Tracer, when set, hears every statement sent (COPY excepted): for
	// tests and diagnostics.
	Tracer pgx.QueryTracer
}

// Store is one connection to the database, in the configured schema. It is
// not safe for concurrent use; the importer holds one per run.
type Store struct {
	cfg    *pgx.ConnConfig
	schema string
	conn   *pgx.Conn
	outer  pgx.Tx // set by BeginOuter: every statement runs inside it
	// copyBuf is the last COPY's buffer, kept for the next one.
	copyBuf []byte
	// refusing: the database refused rows of the last batch a group wrote
	// here (of the last of ReplayPiece rows or more, or after it), so the
	// next one is written carefully from the start.
	refusing bool
	// refusalGaps are how many records apart the last three rows the
	// database refused in a batch were, the last gap first, and
	// lastRefused the record of the last refused here: where the next one
	// likely is (batchWriter.plan).
	refusalGaps [2]int64
	lastRefused int64
	// groupStock is the sums of the last group, once applied: the next
	// group's, cleared (a group's map grew to thousands of items anew).
	groupStock stockSums
	// spareStock is the sums of a group's last batch, once merged into the
	// group's: the next batch's, cleared.
	spareStock stockSums
}

// querier is what *pgx.Conn and pgx.Tx share: with an outer transaction,
// a chunk's transaction becomes a savepoint inside it.
type querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) q() querier {
	if s.outer != nil {
		return s.outer
	}
	if s.conn == nil {
		return unconnected{}
	}
	return s.conn
}

// unconnected is q when the connection was lost and could not be made
// again (Reconnect): every statement fails with errNotConnected, and none
// dereferences a connection that is not there.
type unconnected struct{}

func (unconnected) Begin(context.Context) (pgx.Tx, error) { return nil, errNotConnected }
func (unconnected) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errNotConnected
}
func (unconnected) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errNotConnected
}
func (unconnected) QueryRow(context.Context, string, ...any) pgx.Row { return unconnectedRow{} }

type unconnectedRow struct{}

func (unconnectedRow) Scan(...any) error { return errNotConnected }

// BeginOuter starts a transaction that holds everything until EndOuter: a
// dry run's READ ONLY transaction, or the transaction that --rollback
// rolls back.
func (s *Store) BeginOuter(ctx context.Context, readOnly bool) error {
	if s.conn == nil {
		return errNotConnected
	}
	mode := pgx.ReadWrite
	if readOnly {
		mode = pgx.ReadOnly
	}
	tx, err := s.conn.BeginTx(ctx, pgx.TxOptions{AccessMode: mode})
	if err != nil {
		return s.lost(err)
	}
	s.outer = tx
	return nil
}

// RollbackOuter ends the outer transaction, undoing all it did.
func (s *Store) RollbackOuter(ctx context.Context) error {
	if s.outer == nil {
		return nil
	}
	err := s.outer.Rollback(ctx)
	s.outer = nil
	return s.lost(err)
}

// Open connects. Errors never contain the password: pgx leaves it out of
// connection errors, and the URL itself is never quoted.
func Open(ctx context.Context, c Config) (*Store, error) {
	cfg, err := pgx.ParseConfig(c.URL)
	if err != nil {
		return nil, parseError(err)
	}
	schema := c.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "batchimport"
	}
	// Text is sent and received as UTF-8 whatever the database's encoding:
	// a character the database cannot hold is then refused (SQLSTATE
	// 22P05, the row's reject) instead of stored as mojibake.
	cfg.RuntimeParams["client_encoding"] = "UTF8"
	if c.Tracer != nil {
		cfg.Tracer = c.Tracer
	}
	s := &Store{cfg: cfg, schema: schema}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// parseError says why a connection string cannot be parsed without quoting
// it: pgx hides the password of a well-formed string only, and a string
// that cannot be parsed is seldom well-formed ("password = x").
func parseError(err error) error {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		if _, why, ok := strings.Cut(msg, "`: "); ok {
			msg = why
		}
	}
	return fmt.Errorf("database URL: cannot parse the connection string (not shown, it may hold a password): %s", msg)
}

func (s *Store) connect(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	// Unqualified table names resolve to the configured schema. A SET,
	// not a startup parameter, which PgBouncer refuses (SPEC §16).
	if _, err := conn.Exec(ctx, "SET search_path = "+pgx.Identifier{s.schema}.Sanitize(), pgx.QueryExecModeSimpleProtocol); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s.conn = conn
	return nil
}

// customPlan runs a statement unnamed, so that the server plans it for
// each call's arguments. A statement of a batch that joins arrays of the
// batch's keys to a table the run fills (invoices) must not keep the
// generic plan the server settles on while that table is empty: it then
// scans the grown table whole for every batch (1.7 s per 1M lines, and
// more the longer the run). Not for every statement: the foreign-key
// checks of a COPY, planned for each row, would cost twice the COPY.
const customPlan = pgx.QueryExecModeCacheDescribe

// CheckSession refuses a connection that does not keep its server session
// from one transaction to the next, as a pooler in transaction or
// statement mode does not: an import's session lock and settings would
// then be another client's. other is a second connection of the same
// run: in session pooling, or without a pooler, two open connections are
// two server processes; through a pooler that hands a server to whoever
// asks next, the second is served by the process the first just released.
func (s *Store) CheckSession(ctx context.Context, other *Store) error {
	pid := func(st *Store) (int32, error) {
		var p int32
		err := st.conn.QueryRow(ctx, "SELECT pg_backend_pid()", pgx.QueryExecModeSimpleProtocol).Scan(&p)
		return p, err
	}
	first, err := pid(s)
	if err != nil {
		return s.lost(err)
	}
	second, err := pid(other)
	if err != nil {
		return other.lost(err)
	}
	again, err := pid(s)
	if err != nil {
		return s.lost(err)
	}
	if first == second || first != again {
		return &PoolingError{}
	}
	return nil
}

// PoolingError is a connection through a pooler in transaction or
// statement mode.
type PoolingError struct{}

func (*PoolingError) Error() string {
	return "the connection does not keep its server session between transactions (a pooler such as PgBouncer in transaction or statement pooling mode): " +
		"batchimport sets search_path and prepares statements for its session, and an import holds a session lock on its run, which another client would inherit there; " +
		"connect directly, or through a pool in session pooling mode"
}

// OpenSession opens a connection, and refuses it (*PoolingError) unless it
// keeps its server session from one transaction to the next: through a
// pooler in transaction or statement mode, the statements a connection
// prepares, and its search_path, would be another client's.
func OpenSession(ctx context.Context, c Config) (*Store, error) {
	s, err := Open(ctx, c)
	if err != nil {
		return nil, err
	}
	other, err := s.Sibling(ctx)
	if err == nil {
		err = s.CheckSession(ctx, other)
		_ = other.Close(ctx)
	}
	if err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// Sibling opens another connection to the same database and schema: a
// run's other writers (--writers).
func (s *Store) Sibling(ctx context.Context) (*Store, error) {
	t := &Store{cfg: s.cfg, schema: s.schema}
	if err := t.connect(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// Alive says whether the connection still answers, within 5 seconds.
func (s *Store) Alive(ctx context.Context) bool {
	if s.conn == nil || s.outer != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return s.conn.Ping(ctx) == nil
}

// Reconnect drops the current connection, if any, and opens a new one.
func (s *Store) Reconnect(ctx context.Context) error {
	if s.outer != nil {
		return errors.New("the connection was lost inside a single transaction (dry run); nothing to resume")
	}
	if s.conn != nil {
		_ = s.conn.Close(ctx)
		s.conn = nil
	}
	return s.connect(ctx)
}

// Close closes the connection; locks held by it are released.
func (s *Store) Close(ctx context.Context) error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close(ctx)
	s.conn = nil
	return err
}

// Schema is the schema holding the tables.
func (s *Store) Schema() string { return s.schema }

func (s *Store) ident() string { return pgx.Identifier{s.schema}.Sanitize() }

// errNotConnected is returned when a previous failure left no connection.
var errNotConnected = errors.New("not connected to PostgreSQL")
