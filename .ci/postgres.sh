#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the tests (or a benchmark), installing it
# from Debian's packages when the machine has none, and prints the URL to use:
#   GIFTWIRE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:<port>/giftwire
# Idempotent: a server already running in the folder is reused.
# Env: PG_DIR (default /tmp/giftwire-pg), PG_PORT (default 5433), PG_SHARED_BUFFERS (128MB).
set -euo pipefail

PG_DIR=${PG_DIR:-/tmp/giftwire-pg}
PG_PORT=${PG_PORT:-5433}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-128MB}
say() { echo "postgres.sh: $*" >&2; }

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  say "installing PostgreSQL (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# initdb and pg_ctl refuse to run as root; run them as the postgres user then.
if [ "$(id -u)" = 0 ]; then
  run_pg() { runuser -u postgres -- "$@"; }
  install -d -o postgres -g postgres -m 700 "$PG_DIR"
else
  run_pg() { "$@"; }
  install -d -m 700 "$PG_DIR"
fi

if [ ! -s "$PG_DIR/data/PG_VERSION" ]; then
  say "initdb in $PG_DIR/data"
  run_pg "$BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust >/dev/null
fi
if ! run_pg "$BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
  say "starting on 127.0.0.1:$PG_PORT"
  run_pg "$BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start -o "\
    -c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR \
    -c shared_buffers=$PG_SHARED_BUFFERS -c max_connections=300 \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
fi

psql_pg() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
[ "$(psql_pg -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'giftwire'")" = 1 ] \
  || psql_pg -d postgres -c "CREATE DATABASE giftwire"
echo "GIFTWIRE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/giftwire"
