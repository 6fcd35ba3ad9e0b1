package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file is
// named NNNN_description.sql; NNNN is its version.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a version number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// LatestVersion is the schema version this binary writes and expects.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate creates or upgrades the schema to LatestVersion. It is idempotent
// and safe to run concurrently: one transaction under an advisory lock keyed
// by the schema applies whatever is missing. It returns the versions applied.
func (s *Store) Migrate(ctx context.Context) (applied []int, err error) {
	return s.migrateTo(ctx, LatestVersion())
}

// migrateTo applies the migrations up to version upTo.
func (s *Store) migrateTo(ctx context.Context, upTo int) (applied []int, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('batchimport migrate'), hashtext($1))`, s.schema); err != nil {
			return err
		}
		stmts := []string{
			`CREATE SCHEMA IF NOT EXISTS ` + s.ident(),
			`SET LOCAL search_path TO ` + s.ident(),
			`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		for _, m := range ms {
			if m.version <= current || m.version > upTo {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	return applied, err
}

// ErrSchema says the schema is missing or not at the version this binary
// expects; the message tells the operator what to run.
var ErrSchema = errors.New("database schema not ready")

// CheckSchema fails with ErrSchema unless the schema is at LatestVersion.
func (s *Store) CheckSchema(ctx context.Context) error {
	var exists bool
	if err := s.q().QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{s.schema, "schema_migrations"}.Sanitize()).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: schema %q has no batchimport tables; run `batchimport migrate` first", ErrSchema, s.schema)
	}
	var v int
	if err := s.q().QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return err
	}
	switch latest := LatestVersion(); {
	case v < latest:
		return fmt.Errorf("%w: schema %q is at version %d, this batchimport needs %d; run `batchimport migrate`", ErrSchema, s.schema, v, latest)
	case v > latest:
		return fmt.Errorf("%w: schema %q is at version %d, newer than this batchimport knows (%d); upgrade batchimport", ErrSchema, s.schema, v, latest)
	}
	return nil
}
