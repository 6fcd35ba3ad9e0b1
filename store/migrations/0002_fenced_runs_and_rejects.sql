-- Exactly once under real operations (SPEC §12).
--
-- A run has an owner: the token of the process that holds it, set when a
-- process takes the run and checked by every commit, so that a writer that
-- lost its lock can never commit again. A run records the bytes it imports
-- (hash and size), the input's layout (so that its rejects file can be
-- rebuilt at any time), and the accounts it wrote to (so that it can be
-- reverted with statements that name the account). Items and mappings
-- remember the run that created them, for the same reason.

ALTER TABLE import_runs
    ADD COLUMN owner           text,
    ADD COLUMN content_sha256  text,
    ADD COLUMN content_size    bigint,
    ADD COLUMN input_format    text NOT NULL DEFAULT 'csv',
    ADD COLUMN input_delimiter text NOT NULL DEFAULT ',',
    ADD COLUMN input_header    bytea,
    ADD COLUMN accounts        text[] NOT NULL DEFAULT '{}',
    -- The input read when the checkpoint was taken: its first
    -- checkpoint_bytes bytes hash to checkpoint_sha256. A resumed run of
    -- standard input (which cannot be hashed before it is read) checks it.
    ADD COLUMN checkpoint_bytes  bigint NOT NULL DEFAULT 0,
    ADD COLUMN checkpoint_sha256 text,
    DROP COLUMN rejects_bytes,
    DROP CONSTRAINT import_runs_status_check,
    ADD CONSTRAINT import_runs_status_check CHECK (status IN
        ('running', 'success', 'partial_success', 'failed', 'interrupted', 'rejected', 'reverted'));

UPDATE import_runs r SET accounts = a.accounts
FROM (SELECT run_id, array_agg(DISTINCT account ORDER BY account) AS accounts FROM transactions GROUP BY run_id) a
WHERE a.run_id = r.id;

ALTER TABLE inventory_items ADD COLUMN run_id bigint; -- the run that created the item
ALTER TABLE item_mappings ADD COLUMN run_id bigint;   -- the run that stored the mapping

-- Every record a run did not import, stored in the same transaction as the
-- chunk's rows and checkpoint: exactly once, whatever happens. account is
-- the run's account, so the table distributes like the others.
CREATE TABLE rejects (
    account   text   NOT NULL,
    run_id    bigint NOT NULL REFERENCES import_runs (id),
    record_no bigint NOT NULL, -- position among the input's records
    line_no   bigint NOT NULL, -- physical line where the record starts
    raw       bytea  NOT NULL, -- the record as read (CSV: its fields as a CSV record; JSON: the object)
    reason    text   NOT NULL, -- field and rule, or SQLSTATE and message
    rule      text   NOT NULL, -- the reason less the offending value: what rejects have in common
    sqlstate  text,
    PRIMARY KEY (account, run_id, record_no)
);
CREATE INDEX rejects_run ON rejects (run_id, record_no);
