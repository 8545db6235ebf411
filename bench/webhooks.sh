#!/usr/bin/env bash
# Webhook delivery on a fresh SQLite database (synchronous=normal), to a receiver on loopback
# answering 204 (crates/giftwire/examples/webhook_bench.rs), for 1 and for 20 endpoints:
#   throughput  a backlog (eGifts created over HTTP for $BACKLOG_SECS s by a server that does not
#               deliver, 2 events each, fanned out to every endpoint) drained by `giftwire tick`:
#               deliveries per second, from its start to its end;
#   lag         16 clients creating eGifts for $LAG_SECS s against a server that delivers: from
#               each creation's answer to its send.sent reaching each endpoint (percentiles).
#   bench/webhooks.sh      (env: ENDPOINTS="1 20", PORT, RPORT, BACKLOG_SECS, LAG_SECS)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
(cd "$REPO" && cargo build --release --quiet --example webhook_bench)
RECEIVER=$REPO/target/release/examples/webhook_bench
DIR=$(mktemp -d /tmp/giftwire-webhooks-XXXX)
PORT=${PORT:-8446}
RPORT=${RPORT:-8447}
ENDPOINTS=${ENDPOINTS:-1 20}
BACKLOG_SECS=${BACKLOG_SECS:-5s}
LAG_SECS=${LAG_SECS:-10}
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
export GIFTWIRE_SEALING_KEY_FILE=$DIR/sealing-key GIFTWIRE_WEBHOOK_ALLOW_PRIVATE=1

fixture() { # N: a fresh database with an eGift fixture and N endpoints on the receiver
  URL="sqlite://$DIR/hooks-$1-$RANDOM.db"
  egift_fixture "$URL" "hooks$1"
  for i in $(seq 0 $(($1 - 1))); do
    "$BIN" --database "$URL" webhook create --org "$ORG" --url "http://127.0.0.1:$RPORT/e/$i" >/dev/null
  done
}

for n in $ENDPOINTS; do
  # Throughput: the backlog first, then the drain.
  fixture "$n"
  serve "$URL" "$PORT" /dev/null --sqlite-synchronous normal
  kill $PID; wait $PID 2>/dev/null || true
  RUST_LOG=warn "$BIN" --database "$URL" --sqlite-synchronous normal serve --listen "127.0.0.1:$PORT" \
    --rate-limit 0 --no-webhook-delivery 2>/dev/null &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  cat >"$DIR/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"send":{"touch_id":$TOUCH,"email":"john.doe@acme.com","name":"John Doe","via":"single_email_address","via_from":"bench"}}'
LUA
  wrk -t2 -c16 -d "$BACKLOG_SECS" -s "$DIR/post.lua" "http://127.0.0.1:$PORT/api/v3/send" >/dev/null
  sleep 1 # the creations wrk left in flight
  sends=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v3/send?per_page=1" | json total_count)
  kill $PID; wait $PID 2>/dev/null || true; PID=
  expect=$((sends * 2 * n))
  "$RECEIVER" receive "127.0.0.1:$RPORT" "$n" "$expect" >"$DIR/span" &
  rpid=$!
  sleep 0.3
  start=$(date +%s.%N)
  "$BIN" --database "$URL" --sqlite-synchronous normal tick >"$DIR/tick.json"
  end=$(date +%s.%N)
  wait $rpid
  python3 - "$n" "$sends" "$expect" "$start" "$end" "$(cat "$DIR/span")" "$DIR/tick.json" <<'PY'
import json, sys
n, sends, expect = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
took = float(sys.argv[5]) - float(sys.argv[4])
span = float(sys.argv[6])
tick = json.load(open(sys.argv[7]))
print(f"{n:>2} endpoint(s) throughput: {sends} sends, {expect} deliveries drained by tick in {took:.2f} s "
      f"= {expect / took:,.0f} deliveries/s (receiver first-to-last {span:.2f} s); "
      f"delivered {tick['webhooks_delivered']}, retried {tick['webhooks_retried']}, failed {tick['webhooks_failed']}")
PY

  # Lag under load: a server that delivers while 16 clients create.
  fixture "$n"
  serve "$URL" "$PORT" /dev/null --sqlite-synchronous normal
  printf '%2s endpoint(s) lag under load: %s\n' "$n" \
    "$("$RECEIVER" lag "127.0.0.1:$RPORT" "$n" "http://127.0.0.1:$PORT" "$TOKEN" "$TOUCH" 16 "$LAG_SECS")"
  kill $PID; wait $PID 2>/dev/null || true; PID=
done
