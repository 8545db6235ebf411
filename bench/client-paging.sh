#!/usr/bin/env bash
# giftwire-client reading every send of a 1,000,000-send organization, against raw HTTP making
# the same requests (crates/giftwire/examples/client_paging.rs), on the SQLite dataset of
# bench/filters.sh (seeded if missing). CONCURRENCY (default 4) requests at once. PIN=1 runs the
# server on CPU 0 and the reader on CPU 1 (taskset), so that the reader's own work (the client's
# JSON decoding) does not take the server's CPU: on a 2-core machine, that is how a client on its
# own machine sees the server. The page cache is off, so that the second pass (the client) reads
# what the first (raw HTTP) read at the same cost.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIR=${BENCH_DIR:-/tmp/giftwire-bench}/giftwire
PORT=${GW_PORT:-8448}
CONCURRENCY=${CONCURRENCY:-4}
mkdir -p "$DIR"
(cd "$REPO" && cargo build --release --quiet --example client_paging)
DB="sqlite://$DIR/filters.db"
if [ ! -f "$DIR/filters.db" ]; then
  "$BIN" --database "$DB" org create --name "Bench org 1" --time-zone America/Los_Angeles >/dev/null
  "$BIN" --database "$DB" seed --org 1 --sends 1000000 --seed 1 >/dev/null
fi
user=$("$BIN" --database "$DB" user create --org 1 --name Pager --email "pager-$(date +%s%N)@bench.example" | json id)
token=$("$BIN" --database "$DB" token create --user "$user" | json access_token)
trap '[ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
SERVER_CPU=() READER_CPU=()
if [ "${PIN:-0}" = 1 ]; then SERVER_CPU=(taskset -c 0) READER_CPU=(taskset -c 1); fi
RUST_LOG=warn "${SERVER_CPU[@]}" "$BIN" --database "$DB" serve --listen "127.0.0.1:$PORT" --rate-limit 0 --page-cache-mb 0 \
  2>"$DIR/client-paging-serve.log" &
PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
"${READER_CPU[@]}" "$REPO/target/release/examples/client_paging" "http://127.0.0.1:$PORT" "$token" "$CONCURRENCY"
