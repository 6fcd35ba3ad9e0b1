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
-- the invoices stored are keyed so too.
--
-- Characters beyond ASCII are named only in a UTF-8 database, whose
-- encoding holds them.
DO $migration$
DECLARE
    wide   text := ''; -- no-break, figure, narrow no-break, ideographic space
    hidden text := ''; -- zero-width space, word joiner, soft hyphen, byte order mark
BEGIN
    IF getdatabaseencoding() = 'UTF8' THEN
        wide := convert_from('\xc2a0e28087e280afe38080'::bytea, 'UTF8');
        hidden := convert_from('\xe2808be281a0c2adefbbbf'::bytea, 'UTF8');
    END IF;
    EXECUTE format($create$
        CREATE FUNCTION invoice_vendor(vendor text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $body$
            SELECT coalesce(nullif(array_to_string(array_remove(string_to_array(
                translate(lower(vendor), %L, %L), ' '), ''), ' '), ''), lower(vendor))
        $body$ $create$,
        E'-/_\t' || wide || hidden || '.,''"!?:;()[]{}<>*+=#@$%^~|\&`', repeat(' ', 4 + length(wide)));

    -- Invoices that now read the same are one: the run that imported it
    -- first keeps it.
    DELETE FROM invoices AS i USING invoices AS j
    WHERE j.account = i.account
      AND invoice_vendor(j.vendor) = invoice_vendor(i.vendor)
      AND translate(j.invoice_number, hidden, '') = translate(i.invoice_number, hidden, '')
      AND (j.run_id, j.vendor, j.invoice_number) < (i.run_id, i.vendor, i.invoice_number);
    UPDATE invoices SET vendor = invoice_vendor(vendor), invoice_number = translate(invoice_number, hidden, '')
    WHERE vendor <> invoice_vendor(vendor) OR invoice_number <> translate(invoice_number, hidden, '');
END
$migration$;
