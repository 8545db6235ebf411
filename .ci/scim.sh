#!/usr/bin/env bash
# The SCIM compliance check: scim2-tester (an independent SCIM 2.0 tester, from PyPI) against
# giftwire's /api/scim/v2 with a `scim` token, on a fresh SQLite database and, with
# GIFTWIRE_TEST_POSTGRES_URL, on a fresh PostgreSQL database too. Uses the binary `cargo test`
# built (target/debug/giftwire), or $BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/debug/giftwire}
[ -x "$BIN" ] || cargo build --quiet
VENV=${SCIM_VENV:-/tmp/giftwire-scim-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q -r .ci/scim/requirements.txt
fi
WORK=$(mktemp -d /tmp/giftwire-scim-XXXX)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

check() { # URL PORT
  local url=$1 port=$2 org token
  org=$("$BIN" --database "$url" org create --name "SCIM $port" | json id)
  "$BIN" --database "$url" team create --org "$org" --name "Field Marketing" >/dev/null
  "$BIN" --database "$url" team create --org "$org" --name "Sales" >/dev/null
  local owner
  owner=$("$BIN" --database "$url" user create --org "$org" --name "IT Admin" --email "it@scim$port.example" | json id)
  token=$("$BIN" --database "$url" token create --user "$owner" --scopes scim | json access_token)
  RUST_LOG=warn GIFTWIRE_SEALING_KEY_FILE="$WORK/sealing-key" "$BIN" --database "$url" serve --listen "127.0.0.1:$port" --rate-limit 0 2>"$WORK/serve-$port.log" &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  "$VENV/bin/python" .ci/scim/check.py "http://127.0.0.1:$port/api/scim/v2" "$token"
  kill $PID; wait $PID 2>/dev/null || true; PID=
}

echo "-- SQLite"
check "sqlite://$WORK/scim.db" 8481
if [ -n "${GIFTWIRE_TEST_POSTGRES_URL:-}" ]; then
  echo "-- PostgreSQL"
  schema="scim_$$"
  psql "$GIFTWIRE_TEST_POSTGRES_URL" -qc "CREATE SCHEMA $schema" >/dev/null
  check "$GIFTWIRE_TEST_POSTGRES_URL?options=-c%20search_path%3D$schema" 8482
  psql "$GIFTWIRE_TEST_POSTGRES_URL" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" >/dev/null
fi
