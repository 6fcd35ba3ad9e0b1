-- Parallel writers (SPEC §17): let a COPY check its rows' foreign keys
-- after it ends.
--
-- A COPY checks the foreign keys of its rows once they are all in, while
-- it still holds a slot for each row of its multi-insert buffer: 1,000 in
-- binary COPY, each pinning the table's tuple descriptor in the
-- statement's resource owner. Every check pins and unpins descriptors
-- there too, and PostgreSQL 15 keeps more than 64 pins in an open-
-- addressed hash in which the 1,000 equal ones form one long run: the
-- checks spent about 6% of the server's CPU probing it (perf, on a 1M-
-- line import with two writers: ResourceOwnerRememberTupleDesc and its
-- Forget, 700 samples of 11,000, against 60 once the checks ran apart).
--
-- Both keys stay checked before their transaction commits, and by
-- default when each statement ends, as before. The importer defers them
-- for the length of each COPY, in the COPY's own query, and
-- checks them with SET CONSTRAINTS ... IMMEDIATE right after it, in the
-- same savepoint: a row the keys refuse is refused there, as it was at
-- the end of the COPY (neither error names a row). A 1M-line import took
-- 13.4 to 13.9 s against 13.9 to 14.9 s (four alternated pairs).
ALTER TABLE transactions
    ALTER CONSTRAINT transactions_run_id_fkey DEFERRABLE INITIALLY IMMEDIATE,
    ALTER CONSTRAINT transactions_account_item_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
