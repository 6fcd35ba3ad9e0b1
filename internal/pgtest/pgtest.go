// Package pgtest gives tests a real PostgreSQL: a schema of their own per
// test, migrated, dropped afterwards, and checks of the import invariant.
// A test that needs a database fails (never skips) when none is configured;
// `make test` provides one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/batchimport/batchimport/internal/faultproxy"
	"github.com/batchimport/batchimport/mapping"
	"github.com/batchimport/batchimport/store"
)

// EnvURL names the variable holding the test database's connection string.
const EnvURL = "BATCHIMPORT_TEST_DATABASE_URL"

// URL returns the test database's connection string, failing the test when
// there is none.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Fatalf("%s is not set: these tests need a real PostgreSQL; run them with `make test`, which starts a throwaway server", EnvURL)
	}
	return url
}

// Schema creates a fresh schema for the test, migrated to the latest
// version, and drops it when the test ends.
func Schema(t testing.TB) store.Config {
	t.Helper()
	cfg := EmptySchema(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	Migrate(t, db)
	return cfg
}

// EmptySchema names a schema unique to the test, without creating it, and
// drops it (if it then exists) when the test ends.
func EmptySchema(t testing.TB) store.Config {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg := store.Config{URL: URL(t), Schema: "t_" + hex.EncodeToString(b[:])}
	t.Cleanup(func() {
		conn := Conn(t, cfg)
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{cfg.Schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return cfg
}

// Conn opens a connection with search_path set to the schema, closed when
// the test ends.
func Conn(t testing.TB, cfg store.Config) *pgx.Conn {
	t.Helper()
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	pc.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	conn, err := pgx.ConnectConfig(context.Background(), pc)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// WithAppName returns cfg whose connections carry application_name name, so
// that a test can find (and terminate) its own backends.
func WithAppName(cfg store.Config, name string) store.Config {
	cfg.URL += " application_name=" + name
	return cfg
}

// Snapshot describes every table and sequence of the connection's schema:
// the tables' contents (hashed) and the sequences' positions. Two equal
// snapshots mean nothing was written.
func Snapshot(t testing.TB, conn *pgx.Conn) string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT c.relname, c.relkind FROM pg_class c
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'S') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type rel struct{ name, kind string }
	var rels []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.name, &r.kind); err != nil {
			t.Fatal(err)
		}
		rels = append(rels, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var out string
	for _, r := range rels {
		id := pgx.Identifier{r.name}.Sanitize()
		var v string
		q := `SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') FROM ` + id + ` x`
		if r.kind == "S" {
			q = `SELECT last_value || ':' || is_called FROM ` + id
		}
		if err := conn.QueryRow(ctx, q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		out += r.name + "=" + v + "\n"
	}
	return out
}

// Migrate does what `batchimport migrate` does: the schema's migrations,
// then its keys re-keyed by this vocabulary.
func Migrate(t testing.TB, db *store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := db.Rekey(ctx, mapping.Vocabulary{}); err != nil {
		t.Fatalf("migrate: re-key: %v", err)
	}
}

// ThroughProxy starts a fault proxy to cfg's server, stopped at the end of
// the test, and returns it with cfg pointed at it.
func ThroughProxy(t testing.TB, cfg store.Config) (*faultproxy.Proxy, store.Config) {
	t.Helper()
	network, address, err := faultproxy.FromURL(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	px, err := faultproxy.Start(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	if cfg.URL, err = px.RewriteURL(cfg.URL); err != nil {
		t.Fatal(err)
	}
	return px, cfg
}
