package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is how a run, or one invocation for one input, ended. It is the
// one home of these names: import_runs.status holds the first seven, and a
// summary may also say skipped or deferred, which are never stored.
type Status string

// The statuses.
const (
	StatusRunning        Status = "running"
	StatusSuccess        Status = "success"
	StatusPartialSuccess Status = "partial_success"
	StatusFailed         Status = "failed"
	StatusInterrupted    Status = "interrupted"
	StatusRejected       Status = "rejected" // every record was rejected
	StatusReverted       Status = "reverted" // nothing of the run stays but its rejects
	StatusSkipped        Status = "skipped"  // the source was already imported
	StatusDeferred       Status = "deferred" // the file is too new (--min-age)
)

// Done says whether a source whose last run ended so is not imported again
// without --force.
func (s Status) Done() bool { return s == StatusSuccess || s == StatusPartialSuccess }

// Resumable says whether the next import of the source goes on with this
// run rather than starting a new one.
func (s Status) Resumable() bool {
	return s == StatusRunning || s == StatusFailed || s == StatusInterrupted
}

// Progress is what a run has done so far; it is stored with every commit,
// so that a resumed run goes on from exactly there.
type Progress struct {
	Record         int64 // records done, in input order; resume starts after
	Line           int64 // line of the last record done
	RowsRead       int64
	RowsImported   int64
	RowsRejected   int64
	RowsSkipped    int64 // no invoice line: a total, a note (--skip-non-lines)
	ItemsCreated   int64
	FuzzyMatches   int64
	Chunks         int64
	ChunksReplayed int64
	// Bytes of input had been read when the checkpoint was taken, and
	// Digest is their SHA-256 (hex).
	Bytes  int64
	Digest string
}

// Plus adds the counts of d to p's; where p stands (Record, Line, Bytes,
// Digest) is p's.
func (p Progress) Plus(d Progress) Progress {
	p.RowsRead += d.RowsRead
	p.RowsImported += d.RowsImported
	p.RowsRejected += d.RowsRejected
	p.RowsSkipped += d.RowsSkipped
	p.ItemsCreated += d.ItemsCreated
	p.FuzzyMatches += d.FuzzyMatches
	p.Chunks += d.Chunks
	p.ChunksReplayed += d.ChunksReplayed
	return p
}

// Run is a row of the view runs: a run (import_runs) with its progress
// (run_progress).
type Run struct {
	ID          int64
	SourceKey   string
	SourceName  string
	Account     string
	Status      Status
	StartedAt   time.Time
	FinishedAt  *time.Time
	RejectsFile string
	Error       string
	Owner       string
	Content     Content
	Input       InputLayout
	Progress    Progress
	Unresolved  int64 // rejects not yet taken back by a fixed import
}

// Content identifies the bytes of a source: their SHA-256 (hex) and size.
// Both are empty for standard input until its run has read it all.
type Content struct {
	SHA256 string
	Size   *int64
}

// InputLayout is what it takes to write a run's rejects in its input's
// format: the format, the CSV delimiter, and the CSV header as read
// (CSV-encoded).
type InputLayout struct {
	Format    string
	Delimiter string
	Header    []byte
	Encoding  string // what the input was read in, into UTF-8
}

const runColumns = `id, source_key, source_name, account, status, started_at, finished_at,
	coalesce(rejects_file, ''), coalesce(error, ''), coalesce(owner, ''), coalesce(content_sha256, ''), content_size,
	input_format, input_delimiter, input_header, input_encoding, checkpoint_record, checkpoint_line, rows_read, rows_imported,
	rows_rejected, items_created, fuzzy_matches, chunks, chunks_replayed, checkpoint_bytes, coalesce(checkpoint_sha256, ''),
	rows_skipped,
	(SELECT count(*) FROM rejects j WHERE j.account = runs.account AND j.run_id = runs.id AND j.resolved_by IS NULL)`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	p := &r.Progress
	err := row.Scan(&r.ID, &r.SourceKey, &r.SourceName, &r.Account, &r.Status, &r.StartedAt, &r.FinishedAt,
		&r.RejectsFile, &r.Error, &r.Owner, &r.Content.SHA256, &r.Content.Size,
		&r.Input.Format, &r.Input.Delimiter, &r.Input.Header, &r.Input.Encoding, &p.Record, &p.Line, &p.RowsRead, &p.RowsImported,
		&p.RowsRejected, &p.ItemsCreated, &p.FuzzyMatches, &p.Chunks, &p.ChunksReplayed, &p.Bytes, &p.Digest, &p.RowsSkipped, &r.Unresolved)
	return r, err
}

// LockedError says another process holds a source.
type LockedError struct {
	SourceKey string
	RunID     int64  // the holder's run, 0 when it has none recorded yet
	Owner     string // the holder's owner token, when known
}

func (e *LockedError) Error() string {
	if e.RunID == 0 {
		return fmt.Sprintf("source %s is being imported by another process", e.SourceKey)
	}
	return fmt.Sprintf("source %s is being imported by another process (run %d, %s)", e.SourceKey, e.RunID, e.Owner)
}

// FencedError says a run was taken over by another process: this one lost
// its lock (its connection dropped, or it was paused) and must not write
// again.
type FencedError struct {
	RunID int64
	Owner string // the process that holds the run now
}

func (e *FencedError) Error() string {
	return fmt.Sprintf("run %d was taken over by another process (%s); this process stopped writing", e.RunID, e.Owner)
}

// LockSource takes the session-level advisory lock of a source, so that two
// processes never import it at once. It fails at once with *LockedError when
// another session holds it. The lock lasts as long as the connection; the
// run's owner token (checked by every commit) is what makes it safe.
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
	err = s.q().QueryRow(ctx, `SELECT id, coalesce(owner, '') FROM runs WHERE source_key = $1 AND status = 'running'
		ORDER BY id DESC LIMIT 1`, sourceKey).Scan(&e.RunID, &e.Owner)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s.lost(err)
	}
	return e
}

// LastRun returns the latest run of a source for an account that was not
// reverted, else the latest reverted, or ok false when there is none: a
// source imported by a run that stands is imported, whatever runs of it
// with --force were reverted since. A source is the account's: the same
// bytes imported for another account are that account's own run, never a
// resume or a skip of this one's.
func (s *Store) LastRun(ctx context.Context, sourceKey, account string) (r Run, ok bool, err error) {
	if s.conn == nil {
		return Run{}, false, errNotConnected
	}
	r, err = scanRun(s.q().QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE source_key = $1 AND account = $2
		ORDER BY status = 'reverted', id DESC LIMIT 1`, sourceKey, account))
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	return r, err == nil, s.lost(err)
}

// ContentOf returns the content recorded for a source key of an account by
// its latest run that recorded one and of which something stays (not
// reverted or rejected), and that run's id; a zero Content when there is
// none.
func (s *Store) ContentOf(ctx context.Context, sourceKey, account string) (Content, int64, error) {
	var c Content
	var runID int64
	err := s.q().QueryRow(ctx, `SELECT id, content_sha256, content_size FROM import_runs
		WHERE source_key = $1 AND account = $2 AND content_sha256 IS NOT NULL AND status NOT IN ('reverted', 'rejected')
		ORDER BY id DESC LIMIT 1`, sourceKey, account).Scan(&runID, &c.SHA256, &c.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		return Content{}, 0, nil
	}
	return c, runID, s.lost(err)
}

// GetRun reads one run.
func (s *Store) GetRun(ctx context.Context, id int64) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	r, err := scanRun(s.q().QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("run %d: %w", id, ErrNoRun)
	}
	return r, s.lost(err)
}

// RunFilter picks runs: of a status, started since a time; "" and the
// zero time pick all.
type RunFilter struct {
	Status Status
	Since  time.Time
	Limit  int
}

// Runs returns the runs the filter picks, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	rows, err := s.q().Query(ctx, `SELECT `+runColumns+` FROM runs
		WHERE ($1 = '' OR status = $1) AND ($2::timestamptz IS NULL OR started_at >= $2)
		ORDER BY id DESC LIMIT $3`, string(f.Status), nullTime(f.Since), f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanRun(row) })
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// NewRun is a run about to start.
type NewRun struct {
	SourceKey, SourceName, Account, RejectsFile, Owner string
	Content                                            Content
	Input                                              InputLayout
}

// CreateRun records a new run of a source, owned by n.Owner.
func (s *Store) CreateRun(ctx context.Context, n NewRun) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	var r Run
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO import_runs (source_key, source_name, account, status, rejects_file,
			content_sha256, content_size, input_format, input_delimiter, input_header, input_encoding)
			VALUES ($1, $2, $3, 'running', $4, nullif($5, ''), $6, $7, $8, $9, coalesce(nullif($10, ''), 'utf-8')) RETURNING id`,
			n.SourceKey, n.SourceName, n.Account, n.RejectsFile, n.Content.SHA256, n.Content.Size,
			n.Input.Format, n.Input.Delimiter, n.Input.Header, n.Input.Encoding).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO run_progress (run_id, owner) VALUES ($1, $2)`, id, n.Owner); err != nil {
			return err
		}
		r, err = scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
		return err
	})
	return r, s.lost(err)
}

// SupersedeRun marks a run of which every record was rejected reverted,
// for a new run of its source is about to import the same records: each
// record then stays in the rejects of one run only. The caller holds the
// source's lock.
//
// It is refused, as a revert is, when some of the run's rejects, fixed,
// were imported by runs still standing: the new run would import those
// records a second time.
func (s *Store) SupersedeRun(ctx context.Context, id int64) error {
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		var accounts []string
		err := tx.QueryRow(ctx, `SELECT array_append(p.accounts, r.account) FROM import_runs r JOIN run_progress p ON p.run_id = r.id
			WHERE r.id = $1 AND r.status = 'rejected' FOR UPDATE OF r`, id).Scan(&accounts)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := cameHome(ctx, tx, accounts, id, supersededTwice); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_runs SET status = 'reverted',
			error = coalesce(error || '; ', '') || 'superseded by a new import of its source' WHERE id = $1`, id); err != nil {
			return err
		}
		// What it holds goes back, as a revert gives it back: the rejects
		// it took back are rejects again, for the new run to take back to
		// their first run's invoices, and the invoices it claimed are free.
		if _, err := tx.Exec(ctx, `UPDATE rejects SET resolved_by = NULL WHERE account = ANY($1) AND resolved_by = $2`, accounts, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM invoices WHERE account = ANY($1) AND run_id = $2`, accounts, id)
		return err
	})
	return s.lost(err)
}

// supersededTwice is what to do about a rejected run whose records,
// fixed, came home, when its source is imported again.
const supersededTwice = "its source imported again would import them a second time: " +
	"fix and import the rest of run %[1]d's rejects (batchimport rejects %[1]d), or revert %[2]s first"

// CheckSupersede says, reading only, what SupersedeRun would say of run id
// (*CameHomeError): for a read-only dry run, in its transaction.
func (s *Store) CheckSupersede(ctx context.Context, id int64) error {
	if s.outer == nil {
		return errors.New("CheckSupersede needs a dry run's transaction")
	}
	var accounts []string
	err := s.outer.QueryRow(ctx, `SELECT array_append(p.accounts, r.account) FROM import_runs r JOIN run_progress p ON p.run_id = r.id
		WHERE r.id = $1 AND r.status = 'rejected'`, id).Scan(&accounts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err == nil {
		err = cameHome(ctx, s.outer, accounts, id, supersededTwice)
	}
	return s.lost(err)
}

// MovedRejectsFile records that a finished run's rejects file was moved
// (a drop folder's --done-dir), if the run still names where it was.
func (s *Store) MovedRejectsFile(ctx context.Context, runID int64, from, to string) error {
	if s.conn == nil {
		return errNotConnected
	}
	_, err := s.q().Exec(ctx, `UPDATE import_runs SET rejects_file = $3 WHERE id = $1 AND rejects_file = $2`, runID, from, to)
	return s.lost(err)
}

// ResumeRun takes an unfinished run for owner and marks it running again,
// reading its input as in describes, its rejects going to rejectsFile
// ("": where they went). From now on only owner's commits count.
func (s *Store) ResumeRun(ctx context.Context, id int64, owner string, in InputLayout, rejectsFile string) (Run, error) {
	if s.conn == nil {
		return Run{}, errNotConnected
	}
	var r Run
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE run_progress SET owner = $2 WHERE run_id = $1`, id, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE import_runs SET status = 'running', finished_at = NULL, error = NULL,
			input_format = $2, input_delimiter = $3, input_header = $4, input_encoding = coalesce(nullif($5, ''), 'utf-8'),
			rejects_file = coalesce(nullif($6, ''), rejects_file)
			WHERE id = $1`, id, in.Format, in.Delimiter, in.Header, in.Encoding, rejectsFile)
		if err != nil {
			return err
		}
		r, err = scanRun(tx.QueryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
		return err
	})
	return r, s.lost(err)
}

// FinishRun records how a run ended, if owner still holds it; else it
// returns *FencedError and changes nothing. A content hash, when given, is
// recorded too (standard input learns it only at the end). A run that ends
// for good (success, partial_success, rejected) takes with it, in the same
// transaction, the items it created that nothing uses (dropUnused). It
// returns the run's items_created as recorded then, which no longer counts
// those (also when an earlier attempt whose reply was lost dropped them).
func (s *Store) FinishRun(ctx context.Context, id int64, owner string, status Status, errMsg string, c Content) (int64, error) {
	if s.conn == nil {
		return 0, errNotConnected
	}
	var created int64
	err := pgx.BeginFunc(ctx, s.q(), func(tx pgx.Tx) error {
		// Locking the progress row waits for a process taking the run
		// over, and then sees its owner.
		tag, err := tx.Exec(ctx, `WITH held AS (SELECT run_id FROM run_progress WHERE run_id = $1 AND owner = $2 FOR UPDATE)
			UPDATE import_runs SET status = $3, finished_at = now(), error = nullif($4, ''),
			content_sha256 = coalesce(content_sha256, nullif($5, '')), content_size = coalesce(content_size, $6)
			WHERE id = (SELECT run_id FROM held)`, id, owner, status, errMsg, c.SHA256, c.Size)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return s.fenced(ctx, tx, id)
		}
		if status.Done() || status == StatusRejected {
			if err := s.dropUnused(ctx, tx, id); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `SELECT items_created FROM run_progress WHERE run_id = $1`, id).Scan(&created)
	})
	return created, s.lost(err)
}

// dropUnused deletes the items run id created that no row holds, with the
// mappings the run stored for them: items of lines refused after they were
// resolved (a re-sent invoice's new descriptions, refused as duplicates;
// rows the database refused), which would otherwise stay in the catalogue
// for nothing and be counted as created. An item that anything else uses
// (a row, another run's mapping, a proposal, an alias, a unit an operator
// set) stays. Nothing is dropped while another run is running, whatever
// its account (--allow-account writes to others), nor in an account whose
// lock another session holds: such an import may have resolved lines to
// an item already (or, its connection lost, be about to write them).
func (s *Store) dropUnused(ctx context.Context, tx pgx.Tx, id int64) error {
	var accounts []string
	var others bool
	if err := tx.QueryRow(ctx, `SELECT ARRAY(SELECT DISTINCT a FROM unnest(array_append(p.accounts, r.account)) AS a ORDER BY 1),
		EXISTS (SELECT FROM import_runs o WHERE o.status = 'running' AND o.id <> r.id)
		FROM import_runs r JOIN run_progress p ON p.run_id = r.id WHERE r.id = $1`, id).Scan(&accounts, &others); err != nil || others {
		return err
	}
	free := accounts[:0]
	for _, a := range accounts {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+accountLock+`)`, s.schema, a).Scan(&ok); err != nil {
			return err
		}
		if ok {
			free = append(free, a)
		}
	}
	if len(free) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `WITH unused AS (
			SELECT i.account, i.id FROM inventory_items i
			WHERE i.account = ANY($1) AND i.run_id = $2 AND i.quantity = 0
			  AND NOT EXISTS (SELECT FROM transactions t WHERE t.account = i.account AND t.item_id = i.id)
			  AND NOT EXISTS (SELECT FROM item_mappings m WHERE m.account = i.account AND m.item_id = i.id AND m.run_id IS DISTINCT FROM $2)
			  AND NOT EXISTS (SELECT FROM mapping_proposals p WHERE p.account = i.account AND p.item_id = i.id)
			  AND NOT EXISTS (SELECT FROM item_aliases a WHERE a.account = i.account AND a.item_id = i.id)
			  AND NOT EXISTS (SELECT FROM item_units u WHERE u.account = i.account AND u.item_id = i.id)),
		maps AS (DELETE FROM item_mappings m USING unused u WHERE m.account = ANY($1) AND m.account = u.account AND m.item_id = u.id),
		items AS (DELETE FROM inventory_items i USING unused u WHERE i.account = ANY($1) AND i.account = u.account AND i.id = u.id RETURNING 1),
		counted AS (UPDATE run_progress SET items_created = greatest(items_created - (SELECT count(*) FROM items), 0) WHERE run_id = $2)
		SELECT count(*) FROM items`, free, id)
	return err
}

// fenced builds the error of a commit refused because the run has another
// owner now.
func (s *Store) fenced(ctx context.Context, q querier, id int64) error {
	e := &FencedError{RunID: id}
	if err := q.QueryRow(ctx, `SELECT coalesce(owner, '') FROM run_progress WHERE run_id = $1`, id).Scan(&e.Owner); err != nil {
		return s.lost(err)
	}
	return e
}

// checkpoint records the run's progress in tx, only if owner still holds
// the run (else *FencedError) and its checkpoint is still where this batch
// started (else ErrCheckpointMoved: an earlier attempt whose COMMIT reply
// was lost did commit).
func (s *Store) checkpoint(ctx context.Context, tx pgx.Tx, runID int64, owner string, from int64, p Progress, accounts []string) error {
	tag, err := tx.Exec(ctx, `UPDATE run_progress SET checkpoint_record = $4, checkpoint_line = $5, rows_read = $6,
		rows_imported = $7, rows_rejected = $8, items_created = $9, fuzzy_matches = $10, chunks = $11, chunks_replayed = $12,
		accounts = ARRAY(SELECT DISTINCT a FROM unnest(accounts || $13::text[]) AS a ORDER BY 1),
		checkpoint_bytes = $14, checkpoint_sha256 = nullif($15, ''), rows_skipped = $16
		WHERE run_id = $1 AND owner = $2 AND checkpoint_record = $3`,
		runID, owner, from, p.Record, p.Line, p.RowsRead, p.RowsImported, p.RowsRejected, p.ItemsCreated,
		p.FuzzyMatches, p.Chunks, p.ChunksReplayed, accounts, p.Bytes, p.Digest, p.RowsSkipped)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	var holder string
	if err := tx.QueryRow(ctx, `SELECT coalesce(owner, '') FROM run_progress WHERE run_id = $1`, runID).Scan(&holder); err != nil {
		return err
	}
	if holder != owner {
		return &FencedError{RunID: runID, Owner: holder}
	}
	return ErrCheckpointMoved
}

// ErrNoRun says a run does not exist.
var ErrNoRun = errors.New("no such run")

// ErrCheckpointMoved says the run's checkpoint was not where a batch
// expected: an earlier attempt whose COMMIT reply was lost did commit.
var ErrCheckpointMoved = errors.New("the run's checkpoint moved under this batch")
