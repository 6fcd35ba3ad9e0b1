#!/usr/bin/env bash
# with-postgres.sh COMMAND [ARG...]
#
# Runs COMMAND against a throwaway PostgreSQL server and removes the server
# afterwards, whatever happens. The server listens on a unix socket in a
# private temporary directory only (no TCP), so it never clashes with another
# server. COMMAND sees:
#   BATCHIMPORT_TEST_DATABASE_URL, DATABASE_URL  key=value connection string
#   PGHOST, PGPORT, PGUSER, PGDATABASE           for psql
#   BATCHIMPORT_TEST_PGBOUNCER                   the pgbouncer program
# When the PostgreSQL server package is missing, it is installed with
# apt-get (as root). PostgreSQL refuses to run as root, so as root the server
# runs as the postgres user.
#
# Environment:
#   PG_FAST=1   turn off fsync and synchronous commit (tests; never for
#               benchmarks or real data)
set -euo pipefail

find_bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x $d/postgres && -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return 0
		fi
	done
	if command -v pg_ctl >/dev/null && command -v initdb >/dev/null && command -v postgres >/dev/null; then
		dirname "$(command -v postgres)"
		return 0
	fi
	return 1
}

install_server() {
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
		echo "with-postgres: the PostgreSQL server is not installed; install the postgresql package (apt-get install postgresql)" >&2
		exit 1
	fi
	echo "with-postgres: installing the postgresql package" >&2
	local before
	before=$(pg_lsclusters -h 2>/dev/null | awk '$4=="online"{print $1" "$2}' || true)
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	# Debian starts a main cluster on install; stop what was not running before.
	pg_lsclusters -h 2>/dev/null | awk '$4=="online"{print $1" "$2}' | while read -r ver name; do
		if ! grep -qx "$ver $name" <<<"$before"; then
			pg_ctlcluster "$ver" "$name" stop >&2 || true
		fi
	done
}

bindir=$(find_bindir) || { install_server; bindir=$(find_bindir); }

# PgBouncer, Debian's package, for the tests of an import through a pooler.
# Installed as root when missing; Debian starts its service on install,
# which is stopped and disabled: the tests start their own, on private
# sockets. Without it those tests fail, saying so.
find_pgbouncer() {
	command -v pgbouncer 2>/dev/null || { [[ -x /usr/sbin/pgbouncer ]] && echo /usr/sbin/pgbouncer; }
}
if ! pgbouncer=$(find_pgbouncer) && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
	echo "with-postgres: installing the pgbouncer package" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq pgbouncer >&2 || { apt-get update -qq >&2 && apt-get install -y -qq pgbouncer >&2; } || true
	if command -v service >/dev/null; then service pgbouncer stop >/dev/null 2>&1 || true; fi
	pkill -x pgbouncer 2>/dev/null || true
	command -v update-rc.d >/dev/null && update-rc.d pgbouncer disable >/dev/null 2>&1 || true
	pgbouncer=$(find_pgbouncer) || true
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/batchimport-pg.XXXXXX")
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
	chown postgres: "$dir"
	as_pg=(runuser -u postgres --)
fi

cleanup() {
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
	"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }

opts="-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432 -c max_connections=200"
if [[ ${PG_FAST:-} == 1 ]]; then
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }

export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
export BATCHIMPORT_TEST_DATABASE_URL="host=$dir port=5432 user=postgres dbname=postgres sslmode=disable"
export DATABASE_URL=$BATCHIMPORT_TEST_DATABASE_URL
export BATCHIMPORT_TEST_PGBOUNCER=${pgbouncer:-}
export PATH="$bindir:$PATH"
set +e
"$@"
status=$?
set -e
exit $status
