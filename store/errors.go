package store

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// IsTransient reports whether err is worth retrying on a fresh connection:
// the connection was lost or refused (SQLSTATE class 08, or a network
// error), the server lacks resources or is shutting down or starting
// (class 53, 57P01-57P03), or a serialization failure or deadlock. Local
// file errors never are, though syscall.Errno satisfies net.Error: only
// errors of the network itself count.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow,
			pgerrcode.SerializationFailure, pgerrcode.DeadlockDetected, pgerrcode.IdleSessionTimeout:
			return true
		}
		return pgerrcode.IsConnectionException(pgErr.Code) || pgerrcode.IsInsufficientResources(pgErr.Code)
	}
	var opErr *net.OpError
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.As(err, new(*pgconn.ConnectError)) ||
		errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, errNotConnected) ||
		errors.As(err, new(*ConnLostError))
}

// NoSuchHost says the database's host name is not known (DNS): a typo in
// a setting more likely than a server that will be back.
func NoSuchHost(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// IsRowError reports whether err, raised by a statement carrying rows, is
// the fault of some row: anything the server raised that is neither
// transient nor independent of the rows. Independent of rows: a missing
// table or column, a permission denied (class 42), and the classes of a
// broken session, server or configuration. Such an error ends the run; a
// row error is replayed until the row that causes it stands alone, and
// that row is rejected with it (22 and 23, P0001 from a trigger, 54000 from
// an over-long key, ...).
func IsRowError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || IsTransient(err) {
		return false
	}
	switch pgErr.Code[:2] {
	case "0A", "25", "26", "28", "2D", "34", "3B", "3D", "3F", "42", "55", "57", "58", "F0", "XX":
		return false
	}
	return true
}

// ConnLostError wraps an error after which the connection was found closed:
// whatever the error says, the cure is a new connection.
type ConnLostError struct{ Err error }

func (e *ConnLostError) Error() string { return "connection to PostgreSQL lost: " + e.Err.Error() }
func (e *ConnLostError) Unwrap() error { return e.Err }

// lost wraps err in a ConnLostError when the connection is closed, so that
// callers can retry on a new one.
func (s *Store) lost(err error) error {
	if err == nil || IsRowError(err) {
		return err
	}
	if s.conn == nil || s.conn.IsClosed() {
		return &ConnLostError{Err: err}
	}
	return err
}

// SQLState returns the SQLSTATE of a database error, or "".
func SQLState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
