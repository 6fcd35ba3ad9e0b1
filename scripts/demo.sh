#!/usr/bin/env bash
# demo.sh BINARY — the main job, on the database in the environment: migrate,
# import the sample invoices, show the summary, the rejects and the stock.
# Run through `make demo`, which provides a throwaway PostgreSQL.
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/batchimport-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp testdata/demo/invoices.csv testdata/demo/invoices-june.ndjson testdata/demo/sysco-2026-11-27.csv testdata/demo/batchimport.toml "$work/"
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step batchimport migrate
"$bin" migrate

step batchimport import invoices.csv
status=0
"$bin" import --no-progress invoices.csv || status=$?
echo "(exit status $status: 3 means imported with some rows rejected)"

step cat invoices.rejects.csv
cat invoices.rejects.csv

step "rm invoices.rejects.csv; batchimport rejects 1 | head -3   # rebuilt from the database at any time"
rm invoices.rejects.csv
"$bin" rejects 1 | head -3

step "batchimport import invoices.csv   # again: nothing changes"
"$bin" import --no-progress --output json invoices.csv || true

step "head -3 invoices.csv > resent.csv; batchimport import resent.csv   # an invoice sent again"
head -3 invoices.csv > resent.csv
"$bin" import --no-progress resent.csv || true
cat resent.rejects.csv

step "batchimport rejects 1 | sed 's/2026-02-30/2026-02-28/' > fixed.csv; batchimport import fixed.csv   # fixed, it comes home once"
"$bin" rejects 1 | sed 's/2026-02-30/2026-02-28/' > fixed.csv
"$bin" import --no-progress fixed.csv || true

step "batchimport dryrun invoices-june.ndjson   # what would happen, nothing written"
"$bin" dryrun --no-progress invoices-june.ndjson || true

step batchimport import --mapping-report june-mapping.csv invoices-june.ndjson
"$bin" import --no-progress --mapping-report june-mapping.csv invoices-june.ndjson || true

step cat june-mapping.csv invoices-june.rejects.ndjson
cat june-mapping.csv invoices-june.rejects.ndjson

step "batchimport units set 'Whole Milk 1 gal' cs 4   # a case of it holds 4 gal: the fix its reject named"
"$bin" units set 'Whole Milk 1 gal' cs 4

step "batchimport import invoices-june.rejects.ndjson   # the case of milk comes home, in gallons"
cp invoices-june.rejects.ndjson june-fixed.ndjson
"$bin" import --no-progress june-fixed.ndjson || true

step "cat batchimport.toml; iconv -f windows-1252 sysco-2026-11-27.csv   # a supplier's file as delivered"
cat batchimport.toml
iconv -f windows-1252 -t utf-8 sysco-2026-11-27.csv 2>/dev/null || cat sysco-2026-11-27.csv

step "batchimport import --config batchimport.toml sysco-2026-11-27.csv   # read through its profile, picked by the name"
"$bin" import --no-progress --config batchimport.toml sysco-2026-11-27.csv || true

step batchimport status
"$bin" status

step "psql: Whole Milk's lines, as read and in its base unit (gal)"
psql -X -q -c "SELECT t.run_id, t.line_no, t.description, t.quantity, t.unit, t.pack, t.base_quantity
  FROM batchimport.transactions t JOIN batchimport.inventory_items i ON i.account = t.account AND i.id = t.item_id
  WHERE i.name = 'Whole Milk 1 gal' ORDER BY t.run_id, t.line_no"

step "psql: stock by item, in each item's base unit"
psql -X -q -c "SELECT id, name, unit AS base_unit, quantity AS stock FROM batchimport.inventory_items ORDER BY id"
