-- Duplicate invoices (SPEC §13): an invoice's vendor as mappings match it.
--
-- An invoice was keyed by its vendor in lower case, while item mappings
-- match vendors without case or punctuation: an invoice re-sent as from
-- "U.S. Foods" or "US  Foods" found the items of "US Foods" but not its
-- invoice, and was imported a second time. invoice_vendor is the vendor
-- an invoice is keyed by: lower case, dashes, slashes, underscores and
-- tabs read as spaces, ASCII punctuation dropped, spaces collapsed; a
-- vendor made only of punctuation keeps it. No regular expression: it
-- runs for every invoice an import claims and every line a revert frees.
-- The importer computes the same in Go (store.InvoiceVendor) to tell the
-- rows of one invoice apart.
CREATE FUNCTION invoice_vendor(vendor text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(nullif(array_to_string(array_remove(string_to_array(
        translate(lower(vendor), E'-/_\t.,''"!?:;()[]{}<>*+=#@$%^~|\\&`', '    '),
        ' '), ''), ' '), ''), lower(vendor))
$$;

-- Invoices whose vendors now read the same are one: the run that imported
-- it first keeps it.
DELETE FROM invoices AS i USING invoices AS j
WHERE j.account = i.account AND j.invoice_number = i.invoice_number
  AND invoice_vendor(j.vendor) = invoice_vendor(i.vendor)
  AND (j.run_id, j.vendor) < (i.run_id, i.vendor);

UPDATE invoices SET vendor = invoice_vendor(vendor) WHERE vendor <> invoice_vendor(vendor);
