-- Duplicate invoices (SPEC §13): an invoice's vendor as mappings match it.
--
-- An invoice was keyed by its vendor in lower case, while item mappings
-- match vendors without case or punctuation: an invoice re-sent as from
-- "U.S. Foods" or "US  Foods" found the items of "US Foods" but not its
-- invoice, and was imported a second time. invoice_vendor is the vendor
-- an invoice is keyed by: lower case, dashes, slashes, underscores, tabs
-- and the spaces beyond ASCII read as spaces, ASCII punctuation and the
-- characters that show nothing dropped, spaces collapsed; a vendor made
-- only of punctuation keeps it. No regular expression: it runs for every
-- invoice an import claims and every line a revert frees. The importer
-- computes the same in Go (store.InvoiceVendor) to tell the rows of one
-- invoice apart.
--
-- Invoice numbers are now read without the characters that show nothing
-- (a zero-width space, a word joiner, a soft hyphen, a byte order mark):
-- the invoices stored are keyed so too, and invoice_number_key is how a
-- revert reads the numbers of lines imported before.
--
-- Characters beyond ASCII are named only in a UTF-8 database, whose
-- encoding holds them; there, in the "C" locale, whose lower() leaves "É"
-- as it is, lower case is ICU's where the server has it (at about 10 µs
-- a call, against well under 1 µs for a locale's own).
DO $migration$
DECLARE
    wide   text := ''; -- no-break, figure, narrow no-break, ideographic space
    hidden text := ''; -- zero-width space, word joiner, soft hyphen, byte order mark
    lowered text := 'lower(vendor)';
BEGIN
    IF getdatabaseencoding() = 'UTF8' THEN
        wide := convert_from('\xc2a0e28087e280afe38080'::bytea, 'UTF8');
        hidden := convert_from('\xe2808be281a0c2adefbbbf'::bytea, 'UTF8');
        IF current_setting('lc_ctype') IN ('C', 'POSIX') AND EXISTS (SELECT FROM pg_collation WHERE collname = 'und-x-icu') THEN
            lowered := 'lower(vendor COLLATE "und-x-icu")';
        END IF;
    END IF;
    EXECUTE format($create$
        CREATE FUNCTION invoice_vendor(vendor text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $body$
            SELECT coalesce(nullif(array_to_string(array_remove(string_to_array(
                translate(%1$s, %2$L, %3$L), ' '), ''), ' '), ''), %1$s)
        $body$ $create$,
        lowered, E'-/_\t' || wide || hidden || '.,''"!?:;()[]{}<>*+=#@$%^~|\&`', repeat(' ', 4 + length(wide)));
    EXECUTE format($create$
        CREATE FUNCTION invoice_number_key(invoice_number text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $body$ SELECT translate(invoice_number, %L, '') $body$ $create$, hidden);

    -- Invoices that now read the same are one: the run that imported it
    -- first keeps it.
    DELETE FROM invoices AS i USING invoices AS j
    WHERE j.account = i.account
      AND invoice_vendor(j.vendor) = invoice_vendor(i.vendor)
      AND invoice_number_key(j.invoice_number) = invoice_number_key(i.invoice_number)
      AND (j.run_id, j.vendor, j.invoice_number) < (i.run_id, i.vendor, i.invoice_number);
    UPDATE invoices SET vendor = invoice_vendor(vendor), invoice_number = invoice_number_key(invoice_number)
    WHERE vendor <> invoice_vendor(vendor) OR invoice_number <> invoice_number_key(invoice_number);
END
$migration$;
