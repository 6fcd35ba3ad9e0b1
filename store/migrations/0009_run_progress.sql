-- Parallel writers (SPEC §17): what every commit of a run moves leaves
-- import_runs.
--
-- Each row a run writes (transactions, rejects, invoices) is checked
-- against import_runs by its foreign key, which locks the run's row FOR KEY
-- SHARE. When one writer's commit updated that row while another writer's
-- transaction held such a lock, PostgreSQL built a new MultiXact for it,
-- and the other writer's next checks read that again: two COPYs of 1M
-- rows at once, with that row updated every 0.25 s, took 2 to 6 s more
-- server CPU (of about 25 s) than without. A run's row in import_runs now
-- changes only when the run starts, resumes or ends. What a commit moves,
-- and the owner it checks, live in run_progress, which nothing references.
CREATE TABLE run_progress (
    run_id            bigint PRIMARY KEY REFERENCES import_runs (id) ON DELETE CASCADE,
    owner             text,
    checkpoint_record bigint NOT NULL DEFAULT 0,
    checkpoint_line   bigint NOT NULL DEFAULT 0,
    checkpoint_bytes  bigint NOT NULL DEFAULT 0,
    checkpoint_sha256 text,
    rows_read         bigint NOT NULL DEFAULT 0,
    rows_imported     bigint NOT NULL DEFAULT 0,
    rows_rejected     bigint NOT NULL DEFAULT 0,
    rows_skipped      bigint NOT NULL DEFAULT 0,
    items_created     bigint NOT NULL DEFAULT 0,
    fuzzy_matches     bigint NOT NULL DEFAULT 0,
    chunks            bigint NOT NULL DEFAULT 0,
    chunks_replayed   bigint NOT NULL DEFAULT 0,
    accounts          text[] NOT NULL DEFAULT '{}'
);

INSERT INTO run_progress (run_id, owner, checkpoint_record, checkpoint_line, checkpoint_bytes, checkpoint_sha256,
    rows_read, rows_imported, rows_rejected, rows_skipped, items_created, fuzzy_matches, chunks, chunks_replayed, accounts)
SELECT id, owner, checkpoint_record, checkpoint_line, checkpoint_bytes, checkpoint_sha256,
    rows_read, rows_imported, rows_rejected, rows_skipped, items_created, fuzzy_matches, chunks, chunks_replayed, accounts
FROM import_runs;

ALTER TABLE import_runs
    DROP COLUMN owner,
    DROP COLUMN checkpoint_record,
    DROP COLUMN checkpoint_line,
    DROP COLUMN checkpoint_bytes,
    DROP COLUMN checkpoint_sha256,
    DROP COLUMN rows_read,
    DROP COLUMN rows_imported,
    DROP COLUMN rows_rejected,
    DROP COLUMN rows_skipped,
    DROP COLUMN items_created,
    DROP COLUMN fuzzy_matches,
    DROP COLUMN chunks,
    DROP COLUMN chunks_replayed,
    DROP COLUMN accounts;

-- A view with the columns import_runs had, for the queries people keep.
CREATE VIEW runs AS
SELECT r.id, r.source_key, r.source_name, r.account, r.status, r.started_at, r.finished_at,
    p.checkpoint_line, p.checkpoint_record, p.rows_read, p.rows_imported, p.rows_rejected, p.rows_skipped,
    p.items_created, p.fuzzy_matches, p.chunks, p.chunks_replayed, r.rejects_file, r.error, p.owner,
    r.content_sha256, r.content_size, r.input_format, r.input_delimiter, r.input_header, r.input_encoding,
    p.accounts, p.checkpoint_bytes, p.checkpoint_sha256
FROM import_runs r JOIN run_progress p ON p.run_id = r.id;
