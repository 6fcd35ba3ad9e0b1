package importer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batchimport/batchimport/store"
)

// A database that cannot be reached at an import's start is retried; once
// an import of the invocation gave up, the next tries it once.
func TestUnreachableDatabaseAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now: connections are refused
	path := filepath.Join(t.TempDir(), "a.csv")
	data := "invoice_number,invoice_date,vendor,description,quantity,unit,unit_price\nINV-1,2026-11-01,Sysco,Roma Tomatoes 25 lb,2,cs,20.00\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &retries{}
	opts := Options{DB: store.Config{URL: fmt.Sprintf("host=127.0.0.1 port=%d user=x dbname=y connect_timeout=2", port)}, Account: "acme",
		Retry: RetryPolicy{Attempts: 3, MaxElapsed: time.Minute, Base: 10 * time.Millisecond, Max: 20 * time.Millisecond},
		Reach: &Reach{}, Log: slog.New(logs)}
	for i, want := range []int{3, 0} {
		sum := Import(context.Background(), Input{Name: path}, opts)
		if sum.Status != store.StatusFailed || sum.Error == nil || !strings.Contains(*sum.Error, "connect") {
			t.Fatalf("import %d: status %s, error %v; want failed, naming the connection", i+1, sum.Status, sum.Error)
		}
		if got := logs.take(); got != want {
			t.Errorf("import %d: %d retries, want %d", i+1, got, want)
		}
	}
	if !store.NoSuchHost(fmt.Errorf("connect: %w", &net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true})) ||
		store.NoSuchHost(fmt.Errorf("connect: %w", &net.DNSError{Err: "i/o timeout", Name: "db", IsTimeout: true})) {
		t.Error("NoSuchHost: a host not found is permanent, a DNS timeout not")
	}
}

// retries counts the warnings that an attempt is retried.
type retries struct {
	mu sync.Mutex
	n  int
}

func (r *retries) Enabled(context.Context, slog.Level) bool { return true }
func (r *retries) Handle(_ context.Context, rec slog.Record) error {
	if strings.Contains(rec.Message, "retrying") {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
	}
	return nil
}
func (r *retries) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *retries) WithGroup(string) slog.Handler      { return r }

func (r *retries) take() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = 0
	return n
}
