#!/usr/bin/env bash
# Soak: 64 connections of mixed reads (a page of sends) and writes (an eGift creation, one
# request in four) against the release binary for several minutes, with the server's RSS
# sampled every 5 s. Prints throughput, latency, errors and how RSS moved; fails (exit 1) on
# any non-2xx answer or when RSS grows by more than 50% between the first minute and the end.
#   bench/soak.sh                    (env: BACKENDS="sqlite postgres", DURATION=300s, PORT)
# PostgreSQL comes from .ci/postgres.sh (installed and started when missing).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIR=$(mktemp -d /tmp/giftwire-soak-XXXX)
PORT=${PORT:-8446}
DURATION=${DURATION:-300s}
BACKENDS=${BACKENDS:-sqlite postgres}
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
status=0

soak() { # backend, database URL
  local backend=$1 url=$2
  local org
  org=$("$BIN" --database "$url" org create --name "Soak" --time-zone America/New_York | json id)
  "$BIN" --database "$url" seed --org "$org" --sends 20000 >/dev/null
  egift_fixture "$url" "soak-$backend" "$org"
  local touch=$TOUCH token=$TOKEN
  serve "$url" "$PORT" "$DIR/$backend.log"
  cat >"$DIR/mixed.lua" <<LUA
local n = 0
local headers = { ["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json" }
local body = '{"send":{"touch_id":$touch,"email":"soak@example.com","name":"Soak","via":"single_email_address","via_from":"soak"}}'
request = function()
  n = n + 1
  if n % 4 == 0 then
    return wrk.format("POST", "/api/v3/send", headers, body)
  end
  return wrk.format("GET", "/api/v3/send?per_page=20&page=" .. (n % 1000 + 1), headers)
end
LUA
  : >"$DIR/rss"
  ( while kill -0 $PID 2>/dev/null; do
      awk '/VmRSS/ {print $2}' /proc/$PID/status >>"$DIR/rss" 2>/dev/null || true
      sleep 5
    done ) &
  local sampler=$!
  local out
  out=$(wrk -t2 -c64 -d "$DURATION" --latency -s "$DIR/mixed.lua" "http://127.0.0.1:$PORT/")
  kill $sampler 2>/dev/null || true
  local total
  total=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/v3/send?per_page=1" | json total_count)
  kill $PID; wait $PID 2>/dev/null || true; PID=
  local non2xx
  non2xx=$(grep -oE 'Non-2xx or 3xx responses: [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || echo 0)
  python3 - "$backend" "$DIR/rss" "$non2xx" "$total" <<PY
import sys
backend, path, non2xx, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rss = [int(l) for l in open(path) if l.strip()]
first_minute = max(rss[:12]) if rss else 0
end = rss[-1] if rss else 0
print(f"{backend}: RSS samples {len(rss)}: min {min(rss)/1024:.1f} MB, max {max(rss)/1024:.1f} MB, "
      f"first minute max {first_minute/1024:.1f} MB, at the end {end/1024:.1f} MB; "
      f"non-2xx {non2xx}; sends in the organization at the end {total}")
ok = non2xx == 0 and end <= first_minute * 1.5
print(f"{backend}: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  local verdict=$?
  printf '%s: %s\n' "$backend" "$(grep -E '^Requests/sec|^ +(50|99)%|requests in|Socket errors' <<<"$out" | tr -s ' ' | paste -sd ' ')"
  return $verdict
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) url="sqlite://$DIR/soak.db" ;;
    postgres)
      eval "$("$REPO/.ci/postgres.sh")"
      base=${GIFTWIRE_TEST_POSTGRES_URL%/*}
      db="soak_$$"
      psql -X -q "$base/postgres" -c "CREATE DATABASE $db" >/dev/null
      url="$base/$db" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  soak "$backend" "$url" || status=1
done
exit $status
