-- Supplier files as delivered (SPEC §15).
--
-- The text encoding a run's input was read in. Its rejects file, written in
-- UTF-8, then starts with a byte order mark, so that read back with the
-- same --encoding it is read as UTF-8.
ALTER TABLE import_runs ADD COLUMN input_encoding text NOT NULL DEFAULT 'utf-8';
-- Records that are no invoice line (a total, a note, a blank row), skipped
-- with --skip-non-lines: neither imported nor rejected.
ALTER TABLE import_runs ADD COLUMN rows_skipped bigint NOT NULL DEFAULT 0;
