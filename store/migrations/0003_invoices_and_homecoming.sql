-- Stock you can trust (SPEC §13): an invoice belongs to the run that first
-- imported it, and a rejected record, fixed and imported again, comes home
-- once.

-- An invoice (account, vendor, invoice number) is owned by one run; a line
-- of it in another run is a duplicate. The vendor is matched without case.
CREATE TABLE invoices (
    account        text   NOT NULL,
    vendor         text   NOT NULL, -- lower(vendor)
    invoice_number text   NOT NULL,
    run_id         bigint NOT NULL REFERENCES import_runs (id),
    PRIMARY KEY (account, vendor, invoice_number)
);
INSERT INTO invoices (account, vendor, invoice_number, run_id)
SELECT DISTINCT ON (t.account, lower(t.vendor), t.invoice_number) t.account, lower(t.vendor), t.invoice_number, t.run_id
FROM transactions t JOIN import_runs r ON r.id = t.run_id AND r.status <> 'reverted'
ORDER BY t.account, lower(t.vendor), t.invoice_number, t.run_id;

-- home_run is the run whose invoices a rejected record belongs to: its own
-- run, or for a fixed record rejected again, the run it first came from.
-- resolved_by is the run that took the record back (imported it, or
-- rejected it again, keeping it): a reject is resolved once.
ALTER TABLE rejects
    ADD COLUMN home_run    bigint,
    ADD COLUMN resolved_by bigint;
UPDATE rejects SET home_run = run_id;
ALTER TABLE rejects ALTER COLUMN home_run SET NOT NULL;
