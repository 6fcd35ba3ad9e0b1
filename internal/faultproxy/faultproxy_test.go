package faultproxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// testURL is the test server's connection string. The package does not use
// internal/pgtest for it, because pgtest imports the store package and this
// package's tests should not depend on it. Like pgtest, it fails (never
// skips) when no server is configured.
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("BATCHIMPORT_TEST_DATABASE_URL")
	if url == "" {
		t.Fatal("BATCHIMPORT_TEST_DATABASE_URL is not set: these tests need a real PostgreSQL; run them with `make test` (or scripts/with-postgres.sh), which starts a throwaway server")
	}
	return url
}

// start returns a proxy in front of the test server, closed when the test
// ends, and the connection strings of the server and of the proxy.
func start(t *testing.T) (p *Proxy, direct, proxied string) {
	t.Helper()
	direct = testURL(t)
	network, address, err := FromURL(direct)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = Start(network, address); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if proxied, err = p.RewriteURL(direct); err != nil {
		t.Fatal(err)
	}
	return p, direct, proxied
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestDropCommitReply(t *testing.T) {
	p, direct, proxied := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := pgx.Identifier{"faultproxy_" + hex.EncodeToString(b[:])}.Sanitize()
	db := connect(t, direct)
	if _, err := db.Exec(ctx, `CREATE TABLE `+table+` (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(context.Background(), `DROP TABLE IF EXISTS `+table); err != nil {
			t.Errorf("drop table: %v", err)
		}
	})
	count := func() (n int) {
		t.Helper()
		if err := db.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// insert commits one row through the proxy in a transaction.
	insert := func(conn *pgx.Conn, id int) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` VALUES ($1)`, id); err != nil {
			t.Fatal(err)
		}
		return tx.Commit(ctx)
	}

	conn := connect(t, proxied)
	if err := insert(conn, 1); err != nil {
		t.Fatalf("commit through the unarmed proxy: %v", err)
	}
	p.DropNextCommitReply()
	if err := insert(conn, 2); err == nil {
		t.Fatal("commit succeeded although its reply was dropped")
	} else {
		t.Logf("commit with its reply dropped: %v", err)
	}
	if got := p.Dropped(); got != 1 {
		t.Fatalf("Dropped() = %d, want 1", got)
	}
	if got := count(); got != 2 {
		t.Fatalf("%d rows committed, want 2: the server must have committed the row whose reply was dropped", got)
	}

	// Armed drops are counted down one by one, then COMMIT gets through again.
	p.DropCommitReplies(2)
	// Only the tag "COMMIT" is dropped: a COMMIT of a failed transaction is
	// answered "ROLLBACK", and gets through.
	tx, err := connect(t, proxied).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+table+` VALUES (1)`); err == nil {
		t.Fatal("a duplicate key was accepted")
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit of a failed transaction: %v, want %v", err, pgx.ErrTxCommitRollback)
	}
	if got := p.Dropped(); got != 1 {
		t.Fatalf("Dropped() = %d after a ROLLBACK, want 1", got)
	}
	for id := 3; id <= 5; id++ {
		err := insert(connect(t, proxied), id)
		if wantErr := id < 5; (err != nil) != wantErr {
			t.Fatalf("commit %d: err = %v, want an error: %v", id, err, wantErr)
		}
	}
	if got := p.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d, want 3", got)
	}
	if got := count(); got != 5 {
		t.Fatalf("%d rows committed, want 5", got)
	}
}

func TestPauseResume(t *testing.T) {
	p, _, proxied := start(t)
	conn := connect(t, proxied)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var v int
	if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&v); err != nil {
		t.Fatal(err)
	}

	p.Pause()
	done := make(chan error, 1)
	go func() { done <- conn.QueryRow(ctx, `SELECT 42`).Scan(&v) }()
	select {
	case err := <-done:
		t.Fatalf("the query completed while the proxy was paused (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	p.Resume()
	select {
	case err := <-done:
		if err != nil || v != 42 {
			t.Fatalf("after Resume: %d, %v; want 42", v, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the query did not complete after Resume")
	}
}

func TestKillAll(t *testing.T) {
	p, direct, proxied := start(t)
	conn := connect(t, proxied)
	db := connect(t, direct)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	pid := conn.PgConn().PID()
	t.Cleanup(func() { db.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pid) })

	done := make(chan error, 1)
	go func() { _, err := conn.Exec(ctx, `SELECT pg_sleep(30)`); done <- err }()
	for state := ""; state != "active"; {
		if err := db.QueryRow(ctx, `SELECT coalesce((SELECT state FROM pg_stat_activity WHERE pid = $1), '')`, pid).Scan(&state); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.KillAll()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the running query succeeded although its connection was killed")
		}
		t.Logf("running query after KillAll: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the running query did not fail after KillAll")
	}

	var v int
	if err := connect(t, proxied).QueryRow(ctx, `SELECT 7`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("a new connection through the proxy: %d, %v; want 7", v, err)
	}
}

// TestTraffic checks that messages cross the proxy intact: a result of many
// rows, one of a few MiB, and a connection that asks for TLS first (the
// proxy refuses it, so pgx falls back to a plain connection).
func TestTraffic(t *testing.T) {
	_, _, proxied := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn := connect(t, proxied+" sslmode=prefer")
	if _, ok := conn.PgConn().Conn().(*tls.Conn); ok {
		t.Fatal("TLS was negotiated although the proxy refuses it")
	}
	rows, err := conn.Query(ctx, `SELECT i, repeat('x', i % 100) FROM generate_series(1, 20000) i`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var i int
		var s string
		if err := rows.Scan(&i, &s); err != nil {
			t.Fatal(err)
		}
		if n++; i != n || len(s) != i%100 {
			t.Fatalf("row %d: %d, %d bytes", n, i, len(s))
		}
	}
	if err := rows.Err(); err != nil || n != 20000 {
		t.Fatalf("%d rows, %v; want 20000", n, err)
	}
	var big string
	if err := conn.QueryRow(ctx, `SELECT repeat('ab', 3 << 20)`).Scan(&big); err != nil || big != strings.Repeat("ab", 3<<20) {
		t.Fatalf("a 6 MiB value: %d bytes, %v", len(big), err)
	}
}

// TestURLs needs no server: FromURL and RewriteURL only parse, and Start
// refuses what is not a unix socket or a loopback address before listening.
func TestURLs(t *testing.T) {
	for _, c := range []struct{ url, network, address string }{
		{"host=/tmp/batchimport-pg.X port=5432 user=postgres dbname=postgres sslmode=disable", "unix", "/tmp/batchimport-pg.X/.s.PGSQL.5432"},
		{"host=127.0.0.1 port=6000 user=postgres", "tcp", "127.0.0.1:6000"},
		{"postgres://postgres@localhost:5544/db", "tcp", "localhost:5544"},
	} {
		network, address, err := FromURL(c.url)
		if err != nil || network != c.network || address != c.address {
			t.Errorf("FromURL(%q) = %q, %q, %v; want %q, %q", c.url, network, address, err, c.network, c.address)
		}
	}
	for _, c := range [][2]string{{"tcp", "10.1.2.3:5432"}, {"tcp", "example.com:5432"}, {"udp", "127.0.0.1:5432"}} {
		if p, err := Start(c[0], c[1]); err == nil {
			p.Close()
			t.Errorf("Start(%q, %q) succeeded, want a refusal", c[0], c[1])
		}
	}
	p, err := Start("unix", "/nonexistent/.s.PGSQL.5432")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	host, port := p.Addr()
	if host != "127.0.0.1" || port == 0 {
		t.Fatalf("Addr() = %q, %d", host, port)
	}
	url := `host=/tmp/x port=5432 user=postgres password='a b\'c' dbname=postgres sslmode=disable`
	got, err := p.RewriteURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(got)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != host || int(cfg.Port) != port || cfg.User != "postgres" || cfg.Password != "a b'c" || cfg.Database != "postgres" {
		t.Fatalf("RewriteURL(%q) = %q: host %q port %d user %q password %q dbname %q", url, got, cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database)
	}
	if _, err := p.RewriteURL("postgres://postgres@localhost:5432/db"); err == nil {
		t.Error("RewriteURL accepted a URL, which it cannot rewrite")
	}
}
