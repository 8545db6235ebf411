#!/usr/bin/env bash
# What a filtered page of GET /api/v3/send costs in an organization of 1,000,000 sends, and
# whether the unfiltered listing is as fast as before (side by side with an earlier binary).
#
#   bench/filters.sh                      # this revision alone
#   BASE_BIN=/path/to/old/giftwire bench/filters.sh   # and the unfiltered pages on that binary
#
# Each binary gets its own SQLite database of one organization of 1,000,000 sends, seeded by
# itself with the same seed (so the same sends; kept in $BENCH_DIR/giftwire for later runs).
# Each URL gets wrk -t2 -c8 for DURATION seconds after a 2 s warm-up; prints requests/s and
# latency percentiles per URL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BENCH_DIR=${BENCH_DIR:-/tmp/giftwire-bench}
DIR=$BENCH_DIR/giftwire
DURATION=${DURATION:-8}
PORT=${GW_PORT:-8446}
mkdir -p "$DIR"
trap '[ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null || true' EXIT

dataset() { # BINARY URL: one organization of 1,000,000 sends (the same for every binary: --seed 1)
  "$1" --database "$2" org list 2>/dev/null | grep -q '"send_count":1000000' && return 0
  echo "== seeding 1,000,000 sends into $2 with $1" >&2
  local t0=$(date +%s%N)
  "$1" --database "$2" org create --name "Bench org 1" --time-zone America/Los_Angeles >/dev/null
  "$1" --database "$2" seed --org 1 --sends 1000000 --seed 1 >/dev/null
  echo "== seeded in $(( ($(date +%s%N) - t0) / 1000000 )) ms" >&2
}
dataset "$BIN" "sqlite://$DIR/filters.db"
[ -n "${BASE_BIN:-}" ] && dataset "$BASE_BIN" "sqlite://$DIR/filters-base.db"
# FILTERS_PG_URL=postgres://.../db (an empty database, or one this script seeded): the filtered
# pages on PostgreSQL as well (the same seed gives the same sends).
if [ -n "${FILTERS_PG_URL:-}" ]; then
  dataset "$BIN" "$FILTERS_PG_URL"
  # As after any bulk load: statistics for the planner, and the visibility map that lets counts
  # be index-only scans.
  "$BIN" --database "$FILTERS_PG_URL" org list >/dev/null  # migrations first
  psql -X -q "$FILTERS_PG_URL" -c "VACUUM (ANALYZE)" >/dev/null
fi

token() { # BINARY DB: a reader's token in organization 1
  local user
  user=$("$1" --database "$2" user create --org 1 --name "Filter reader" \
    --email "filters-$(date +%s%N)@bench.example" | json id)
  "$1" --database "$2" token create --user "$user" | json access_token
}

# Values that exist in organization 1: a touch, a sender and a recipient's address.
read -r TOUCH SENDER EMAIL < <(python3 - "$DIR/filters.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
touch, sender, email = db.execute(
    "SELECT touch_id, sender_id, recipient_email FROM sends WHERE org_id = 1 AND org_seq = 500000").fetchone()
print(touch, sender, email)
EOF
)

measure() { # LABEL TOKEN PATH
  wrk -t2 -c8 -d2s -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT$3" >/dev/null
  wrk -t2 -c8 -d"${DURATION}s" --latency -H "Authorization: Bearer $2" "http://127.0.0.1:$PORT$3" |
    awk -v label="$1" '
      /Requests\/sec/ {rps=$2}
      /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
      /Non-2xx/ {bad=$NF}
      END {printf "%-44s %9.0f req/s   p50 %8s   p99 %8s%s\n", label, rps, p50, p99, (bad ? "   NON-2xx: " bad : "")}'
}

UNFILTERED=(
  "plain page 1|/api/v3/send?page=1&per_page=100"
  "plain page 5000|/api/v3/send?page=5000&per_page=100"
  "plain page 10000|/api/v3/send?page=10000&per_page=100"
)
FILTERED=(
  "status=Delivered page 1|/api/v3/send?status=Delivered&per_page=100"
  "status=Delivered page 100|/api/v3/send?status=Delivered&per_page=100&page=100"
  "status=Sent&status=Opened page 1|/api/v3/send?status=Sent&status=Opened&per_page=100"
  "type=eGifts USA page 1|/api/v3/send?type=eGifts%20USA&per_page=100"
  "touch_id page 1|/api/v3/send?touch_id=$TOUCH&per_page=100"
  "sender_id page 1|/api/v3/send?sender_id=$SENDER&per_page=100"
  "created in one month page 1|/api/v3/send?created_after=2026-03-01&created_before=2026-04-01&per_page=100"
  "recipient_email|/api/v3/send?recipient_email=$EMAIL&per_page=100"
  "changes from the start, limit 100|/api/v3/send/changes?limit=100"
)

run() { # BINARY URL LABEL ENTRIES...
  local bin=$1 db=$2 label=$3; shift 3
  local tok
  tok=$(token "$bin" "$db")
  BIN=$bin serve "$db" "$PORT" "$DIR/filters-serve.log"
  echo "== $label" >&2
  for entry in "$@"; do measure "${entry%%|*}" "$tok" "${entry#*|}"; done
  kill -TERM "$PID" && wait "$PID" || true
  PID=
}

if [ -n "${BASE_BIN:-}" ]; then
  run "$BASE_BIN" "sqlite://$DIR/filters-base.db" "before ($BASE_BIN), unfiltered" "${UNFILTERED[@]}"
fi
run "$BIN" "sqlite://$DIR/filters.db" "this revision, SQLite" "${UNFILTERED[@]}" "${FILTERED[@]}"
if [ -n "${FILTERS_PG_URL:-}" ]; then
  run "$BIN" "$FILTERS_PG_URL" "this revision, PostgreSQL" "${UNFILTERED[@]}" "${FILTERED[@]}"
fi
