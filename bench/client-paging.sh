#!/usr/bin/env bash
# giftwire-client reading every send of a 1,000,000-send organization, against raw HTTP making
# the same requests (crates/giftwire/examples/client_paging.rs), on the SQLite dataset of
# bench/filters.sh (seeded if missing). CONCURRENCY (default 4) requests at once.
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
serve "$DB" "$PORT" "$DIR/client-paging-serve.log"
"$REPO/target/release/examples/client_paging" "http://127.0.0.1:$PORT" "$token" "$CONCURRENCY"
