#!/usr/bin/env bash
# The rate of POST /api/v3/send (eGifts by email: the send, its status, deadline and mail in one
# transaction) on a fresh SQLite database, sequentially (wrk -t1 -c1) and with 16 concurrent
# clients (wrk -t2 -c16), 10 s each after a 2 s warm-up; once with durable commits (the default,
# synchronous=FULL) and once with `--sqlite-synchronous normal`, side by side in one run.
#   bench/create-sends.sh            (env: DATABASE_URL to measure another database once,
#                                     MODES="full normal", PORT, DURATION, WEBHOOK_ENDPOINTS=N
#                                     to deliver every event to N endpoints meanwhile)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIR=$(mktemp -d /tmp/giftwire-create-XXXX)
PORT=${PORT:-8445}
DURATION=${DURATION:-10s}
MODES=${MODES:-full normal}
PID=
RPID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$RPID" ] && kill $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
if [ "${WEBHOOK_ENDPOINTS:-0}" -gt 0 ]; then
  # A receiver answering 204 (crates/giftwire/examples/webhook_bench.rs) for the endpoints.
  (cd "$REPO" && cargo build --release --quiet --example webhook_bench)
  RPORT=${RPORT:-8447}
  "$REPO/target/release/examples/webhook_bench" receive "127.0.0.1:$RPORT" "$WEBHOOK_ENDPOINTS" 999999999 >/dev/null &
  RPID=$!
  export GIFTWIRE_SEALING_KEY_FILE=$DIR/sealing-key GIFTWIRE_WEBHOOK_ALLOW_PRIVATE=1
fi

measure() { # label, database URL, serve arguments...
  local label=$1 url=$2; shift 2
  egift_fixture "$url" "$label"
  local touch=$TOUCH token=$TOKEN i
  for i in $(seq 0 $((${WEBHOOK_ENDPOINTS:-0} - 1))); do
    "$BIN" --database "$url" webhook create --org "$ORG" --url "http://127.0.0.1:$RPORT/e/$i" >/dev/null
  done
  serve "$url" "$PORT" /dev/null "$@"

  cat >"$DIR/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"send":{"touch_id":$touch,"email":"john.doe@acme.com","name":"John Doe","custom_message":"Thanks!","via":"single_email_address","via_from":"bench"}}'
LUA
  local target="http://127.0.0.1:$PORT/api/v3/send" load out
  for load in "-t1 -c1" "-t2 -c16"; do
    # shellcheck disable=SC2086
    wrk $load -d2s -s "$DIR/post.lua" "$target" >/dev/null
    # shellcheck disable=SC2086
    out=$(wrk $load -d "$DURATION" --latency -s "$DIR/post.lua" "$target")
    printf '%-8s wrk %s: %s\n' "$label" "$load" \
      "$(grep -E '^Requests/sec|^ +(50|99)%|Non-2xx' <<<"$out" | tr -s ' ' | paste -sd ' ')"
  done
  printf '%-8s sends created: %s\n' "$label" \
    "$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v3/send?per_page=1" | json total_count)"
  kill $PID; wait $PID 2>/dev/null || true; PID=
}

if [ -n "${DATABASE_URL:-}" ]; then
  measure "given" "$DATABASE_URL"
  exit
fi
for mode in $MODES; do
  measure "$mode" "sqlite://$DIR/create-$mode.db" --sqlite-synchronous "$mode"
done
