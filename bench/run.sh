#!/usr/bin/env bash
# giftwire's benchmark of GET /api/v3/send, side by side with the baseline of ../shared/bench-peers
# (Django REST Framework over the same PostgreSQL, and nginx serving the same bytes).
#
#   bench/run.sh
#
# 1. builds giftwire (release);
# 2. starts the peers' PostgreSQL cluster (the same server DRF uses) and seeds two giftwire
#    databases, SQLite and PostgreSQL, each with one organization of 1,000,000 sends and nine of
#    100,000 (reused on later runs; the seeding times are reported);
# 3. runs the peers (DRF, then nginx) with their own script;
# 4. serves each giftwire database in turn, warms it up (2 s of load on each page), and runs the
#    peers' load against it (wrk -t2 -c16,
#    10 s per page after a 3 s warm-up: page 1, 5,000 and 10,000 of the 1M organization and page
#    1 of a 100k one), recording the server's peak RSS;
# 5. prints every figure as a ratio to the baseline measured in this run, and whether each
#    target holds (exit status 1 when one does not).
#
# Env: BENCH_DIR (/tmp/giftwire-bench, shared with the peers), PEERS_DIR (../shared/bench-peers
# beside the repository), GW_PORT (8444), DURATION and WARMUP (passed to the peers' runner).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$REPO/../shared/bench-peers}
export BENCH_DIR=${BENCH_DIR:-/tmp/giftwire-bench}
GW_PORT=${GW_PORT:-8444}
GW_DIR=$BENCH_DIR/giftwire
BIN=$REPO/target/release/giftwire
log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$PEERS_DIR/run.sh" ] || die "the peers' runner is not at $PEERS_DIR (set PEERS_DIR)"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
mkdir -p "$GW_DIR"

SERVER_PID=
PG_STARTED=0
cleanup() {
  set +e
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  if [ "$PG_STARTED" = 1 ]; then
    kill -INT "$PG_PID" 2>/dev/null
    for _ in $(seq 600); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building giftwire (release)"
(cd "$REPO" && cargo build --release --quiet)

log "PostgreSQL (the peers' cluster)"
eval "$("$PEERS_DIR/setup-postgres.sh")"  # DATABASE_URL, ADMIN_URL, PG_PID, PG_STARTED
PG_SERVER=${ADMIN_URL%/*}
psql -X -q "$ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = 'giftwire_bench'" | grep -q 1 \
  || psql -X -q "$ADMIN_URL" -c "CREATE DATABASE giftwire_bench" >/dev/null

declare -A URL=(
  [sqlite]="sqlite://$GW_DIR/bench.db"
  [postgres]="$PG_SERVER/giftwire_bench"
)
ORGS=10

# The dataset is there when `org list` shows the ten organizations with their sends.
seeded() {
  "$BIN" --database "$1" org list | python3 -c '
import json, sys
orgs = json.load(sys.stdin)["organizations"]
want = [1_000_000] + [100_000] * 9
sys.exit(0 if [o["send_count"] for o in orgs] == want else 1)'
}

reset() {  # reset BACKEND: an empty database
  case $1 in
    sqlite) rm -f "$GW_DIR/bench.db" "$GW_DIR/bench.db-wal" "$GW_DIR/bench.db-shm" ;;
    postgres)
      psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS giftwire_bench WITH (FORCE)" >/dev/null
      psql -X -q "$ADMIN_URL" -c "CREATE DATABASE giftwire_bench" >/dev/null ;;
  esac
}

seed() {  # seed BACKEND: ten organizations in ten time zones; prints the 1M seeding's seconds
  local url=${URL[$1]} zones=(America/Los_Angeles Europe/London America/New_York Europe/Berlin
    Asia/Kolkata Australia/Sydney UTC America/Sao_Paulo Asia/Tokyo America/Chicago)
  local i n t0 t1
  for i in $(seq 1 $ORGS); do
    "$BIN" --database "$url" org create --name "Bench org $i" --time-zone "${zones[i - 1]}" >/dev/null
  done
  for i in $(seq 1 $ORGS); do
    n=$([ "$i" = 1 ] && echo 1000000 || echo 100000)
    t0=$(date +%s%N)
    "$BIN" --database "$url" seed --org "$i" --sends "$n" --seed "$i" >"$GW_DIR/seed-$1-$i.json"
    t1=$(date +%s%N)
    [ "$i" = 1 ] && echo "scale=1; ($t1 - $t0) / 1000000000" | bc
  done
  return 0
}

token() {  # token BACKEND ORG: a fresh token of a user of the organization
  local url=${URL[$1]} user
  user=$("$BIN" --database "$url" user create --org "$2" --name "Bench reader" \
    --email "reader-$(date +%s%N)@bench$2.example" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "$BIN" --database "$url" token create --user "$user" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null; }
for backend in sqlite postgres; do
  if seeded "${URL[$backend]}" 2>/dev/null; then
    log "$backend: dataset present"
  else
    log "$backend: seeding 1,000,000 + 9 x 100,000 sends"
    reset "$backend"
    secs=$(seed "$backend")
    printf '%s\n' "$secs" >"$GW_DIR/seed-seconds-$backend"
    log "$backend: 1,000,000 sends seeded in $secs s"
  fi
  if [ "$backend" = postgres ]; then
    psql -X -q "$PG_SERVER/giftwire_bench" -c "VACUUM (ANALYZE)" >/dev/null
  fi
done

log "the baseline: DRF and nginx (bench-peers)"
"$PEERS_DIR/run.sh" >&2
cp "$BENCH_DIR/results.json" "$GW_DIR/results-peers.json"

for backend in sqlite postgres; do
  log "giftwire on $backend"
  t1=$(token "$backend" 1)
  t2=$(token "$backend" 2)
  RUST_LOG=warn "$BIN" --database "${URL[$backend]}" serve --listen "127.0.0.1:$GW_PORT" --rate-limit 0 \
    2>"$GW_DIR/serve-$backend.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$GW_PORT/" && break; sleep 0.1; done
  # A freshly started server first gets 5 s of the same load on every page measured (its
  # database's pages and its own caches warm up); the runner then warms each page up again.
  for url in "page=1&per_page=100" "page=5000&per_page=100" "page=10000&per_page=100"; do
    wrk -t2 -c16 -d2s -H "Authorization: Bearer $t1" "http://127.0.0.1:$GW_PORT/api/v3/send?$url" >/dev/null
  done
  wrk -t2 -c16 -d2s -H "Authorization: Bearer $t2" "http://127.0.0.1:$GW_PORT/api/v3/send?page=1&per_page=100" >/dev/null
  TARGET_URL="http://127.0.0.1:$GW_PORT" TARGET_TOKEN=$t1 TARGET_TOKEN_100K=$t2 \
    RESULTS="$GW_DIR/results-$backend.json" "$PEERS_DIR/run.sh" >&2
  grep VmHWM "/proc/$SERVER_PID/status" | awk '{print $2}' >"$GW_DIR/peak-rss-kb-$backend"
  kill -TERM "$SERVER_PID" && wait "$SERVER_PID" || true
  SERVER_PID=
done

python3 "$REPO/bench/compare.py" "$GW_DIR"
