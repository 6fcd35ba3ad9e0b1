package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The error classes of SPEC §12: transient errors are retried, row errors
// replayed until the row stands alone, and the rest end the run. A local
// file error is never a database error, though syscall.Errno satisfies
// net.Error.
func TestErrorClasses(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("copy: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		name           string
		err            error
		transient, row bool
	}{
		{"connection failure 08006", pg("08006"), true, false},
		{"too many connections 53300", pg("53300"), true, false},
		{"disk full 53100", pg("53100"), true, false},
		{"admin shutdown 57P01", pg("57P01"), true, false},
		{"cannot connect now 57P03", pg("57P03"), true, false},
		{"serialization 40001", pg("40001"), true, false},
		{"deadlock 40P01", pg("40P01"), true, false},
		{"check violation 23514", pg("23514"), false, true},
		{"numeric overflow 22003", pg("22003"), false, true},
		{"raised by a trigger P0001", pg("P0001"), false, true},
		{"index row too large 54000", pg("54000"), false, true},
		{"character not in repertoire 22021", pg("22021"), false, true},
		{"permission denied 42501", pg("42501"), false, false},
		{"undefined table 42P01", pg("42P01"), false, false},
		{"query canceled 57014", pg("57014"), false, false},
		{"a network error", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true, false},
		{"a closed connection", fmt.Errorf("x: %w", net.ErrClosed), true, false},
		{"a local file error", &fs.PathError{Op: "open", Path: "/x/rejects.csv", Err: syscall.EACCES}, false, false},
		{"a bare errno", syscall.ENOSPC, false, false},
		{"anything else", errors.New("boom"), false, false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.transient {
			t.Errorf("%s: IsTransient = %v, want %v", tt.name, got, tt.transient)
		}
		if got := IsRowError(tt.err); got != tt.row {
			t.Errorf("%s: IsRowError = %v, want %v", tt.name, got, tt.row)
		}
	}
}

// A store whose connection was lost, and could not be made again, fails
// every statement with errNotConnected: the end of a run still reads its
// rejects then, and must fail, not panic.
func TestUnconnectedStoreFails(t *testing.T) {
	s := &Store{}
	ctx := context.Background()
	if err := s.EachReject(ctx, Run{ID: 1, Account: "a"}, func(Reject) error { return nil }); !errors.Is(err, errNotConnected) {
		t.Errorf("EachReject: %v", err)
	}
	if _, _, err := s.CommonestRule(ctx, Run{ID: 1, Account: "a"}); !errors.Is(err, errNotConnected) {
		t.Errorf("CommonestRule: %v", err)
	}
	if _, err := s.Runs(ctx, RunFilter{}); !errors.Is(err, errNotConnected) {
		t.Errorf("Runs: %v", err)
	}
}
