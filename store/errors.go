package store

import (
	"errors"
	"io"
	"net"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
)

// IsDataError reports whether the database refused data: SQLSTATE classes 22
// (data exception) and 23 (integrity constraint violation), and P0001 raised
// by a trigger. Such an error belongs to a row, and retrying cannot help.
func IsDataError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgerrcode.IsDataException(pgErr.Code) ||
		pgerrcode.IsIntegrityConstraintViolation(pgErr.Code) ||
		pgErr.Code == pgerrcode.RaiseException
}

// IsTransient reports whether err is worth retrying on a fresh connection:
// the connection was lost or refused, the server is shutting down or
// starting, too many connections, or a serialization failure or deadlock.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.AdminShutdown, pgerrcode.CrashShutdown, pgerrcode.CannotConnectNow,
			pgerrcode.TooManyConnections, pgerrcode.SerializationFailure, pgerrcode.DeadlockDetected,
			pgerrcode.IdleSessionTimeout:
			return true
		}
		return pgerrcode.IsConnectionException(pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return pgconn.SafeToRetry(err) ||
		errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, errNotConnected) ||
		errors.As(err, new(*ConnLostError))
}

// ConnLostError wraps an error after which the connection was found closed:
// whatever the error says, the cure is a new connection.
type ConnLostError struct{ Err error }

func (e *ConnLostError) Error() string { return "connection to PostgreSQL lost: " + e.Err.Error() }
func (e *ConnLostError) Unwrap() error { return e.Err }

// lost wraps err in a ConnLostError when the connection is closed, so that
// callers can retry on a new one.
func (s *Store) lost(err error) error {
	if err == nil || IsDataError(err) {
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

// Message returns the server's message of a database error, with its
// detail when there is one, or err's text.
func Message(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	if pgErr.Detail != "" {
		return pgErr.Message + " (" + pgErr.Detail + ")"
	}
	return pgErr.Message
}
