package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run statuses, as stored in import_runs.status.
const (
	StatusRunning        = "running"
	StatusSuccess        = "success"
	StatusPartialSuccess = "partial_success"
	StatusFailed         = "failed"
	StatusInterrupted    = "interrupted"
)

// Progress is what a run has done so far; it is stored with every chunk's
// commit, so that a resumed run goes on from exactly there.
type Progress struct {
	Record         int64 // records done, in input order; resume starts after
	Line           int64 // line of the last record done
	RowsRead       int64
	RowsImported   int64
	RowsRejected   int64
	ItemsCreated   int64
	FuzzyMatches   int64
	Chunks         int64
	ChunksReplayed int64
	RejectsBytes   int64 // length of the rejects file that goes with Line
}

// Run is a row of import_runs.
type Run struct {
	ID          int64
	SourceKey   string
	SourceName  string
	Account     string
	Status      string
	StartedAt   time.Time
	FinishedAt  *time.Time
	RejectsFile string
	Error       string
	Progress    Progress
}

const runColumns = `id, source_key, source_name, account, status, started_at, finished_at,
	coalesce(rejects_file, ''), coalesce(error, ''), checkpoint_record, checkpoint_line, rows_read, rows_imported,
	rows_rejected, items_created, fuzzy_matches, chunks, chunks_replayed, rejects_bytes`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	p := &r.Progress
	err := row.Scan(&r.ID, &r.SourceKey, &r.SourceName, &r.Account, &r.Status, &r.StartedAt, &r.FinishedAt,
		&r.RejectsFile, &r.Error, &p.Record, &p.Line, &p.RowsRead, &p.RowsImported,
		&p.RowsRejected, &p.ItemsCreated, &p.FuzzyMatches, &p.Chunks, &p.ChunksReplayed, &p.RejectsBytes)
	return r, err
}

// LockedError says another process holds a source.
type LockedError struct {
	SourceKey string
	RunID     int64 // the holder's run, 0 when it has none recorded yet
}

func (e *LockedError) Error() string {
	if e.RunID == 0 {
		return fmt.Sprintf("source %s is being imported by another process", e.SourceKey)
	}
	return fmt.Sprintf("source %s is being imported by another process (run %d)", e.SourceKey, e.RunID)
}

// LockSource takes the session-level advisory lock of a source, so that two
// processes never import it at once. It fails at once with *LockedError when
// another session holds it. The lock lasts as long as the connection.
func (s *Store) LockSource(ctx context.Context, sourceKey string) error {
	if s.conn == nil {
		return errNotConnected
	}
	var ok bool
	err := s.q().QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('batchimport source ' || $1), hashtext($2))`,
		s.schema, sourceKey).Scan(&ok)
	if err != nil {
		return s.lost(err)
	}
	if ok {
		return nil
	}
	e := &LockedError{SourceKey: sourceKey}
	err = s.q().QueryRow(ctx, `SELECT id FROM import_runs WHERE source_key = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`,
		sourceKey).Scan(&e.RunID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s.lost(err)
	}
	return e
}

// LastRun returns the latest run of a source, or ok false when there is none.
func (s *Store) LastRun(ctx context.Context, sourceKey string) (r Run, ok bool, err error) {
	if s.conn == nil {
		return Run{}, false, errNotConnected
	}
	r, err = scanRun(s.q().QueryRow(ctx, `SELECT `+runColumns+` FROM import_runs WHERE source_key = $1 ORDER BY id DESC LIMIT 1`, sourceKey))
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	return r, err == nil, s.lost(err)
}

// GetRun reads one run.
func (s *Store) GetRun(ctx context.Context, id int64) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	r, err := scanRun(s.q().QueryRow(ctx, `SELECT `+runColumns+` FROM import_runs WHERE id = $1`, id))
	return r, s.lost(err)
}

// RecentRuns lists the latest runs, newest first.
func (s *Store) RecentRuns(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.q().Query(ctx, `SELECT `+runColumns+` FROM import_runs ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateRun records a new run of a source.
func (s *Store) CreateRun(ctx context.Context, sourceKey, sourceName, account, rejectsFile string) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	r, err := scanRun(s.q().QueryRow(ctx, `INSERT INTO import_runs (source_key, source_name, account, status, rejects_file)
		VALUES ($1, $2, $3, 'running', $4) RETURNING `+runColumns, sourceKey, sourceName, account, rejectsFile))
	return r, s.lost(err)
}

// ResumeRun marks an unfinished run running again.
func (s *Store) ResumeRun(ctx context.Context, id int64) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	r, err := scanRun(s.q().QueryRow(ctx, `UPDATE import_runs SET status = 'running', finished_at = NULL, error = NULL
		WHERE id = $1 RETURNING `+runColumns, id))
	return r, s.lost(err)
}

// FinishRun records how a run ended.
func (s *Store) FinishRun(ctx context.Context, id int64, status, errMsg string) error {
	if s.conn == nil {
		return errNotConnected
	}
	_, err := s.q().Exec(ctx, `UPDATE import_runs SET status = $2, finished_at = now(), error = nullif($3, '') WHERE id = $1`,
		id, status, errMsg)
	return s.lost(err)
}
