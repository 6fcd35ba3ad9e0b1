package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Hooks for the external tests of this package.

func (s *Store) CopyRows(ctx context.Context, tx pgx.Tx, runID int64, rows []Row) error {
	return s.copyRows(ctx, tx, runID, rows)
}

func Nullable(s string) *string { return nullable(s) }
