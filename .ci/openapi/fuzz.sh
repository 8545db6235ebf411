#!/usr/bin/env bash
# Property-based fuzzing of the API against its own OpenAPI document: Schemathesis generates
# requests (valid and invalid) for every documented operation from GET /openapi.json and checks
# every answer: no 5xx, a documented status, a documented content type, a body that fits the
# schema, the documented headers. Runs on a fresh SQLite database seeded through the CLI (an
# organization with teams, users, touches and sends, a webhook endpoint, an OAuth application, an
# invitation) with two tokens: one with every API scope, and a `scim` one (SCIM tokens hold that
# scope alone) of a second organization for /api/scim/v2. Uses the binary `cargo test` built
# (target/debug/giftwire), or $BIN. Prints Schemathesis's report; exits non-zero on any failure.
#
# Knobs: FUZZ_MAX_EXAMPLES (25 per operation), FUZZ_SEED (1), FUZZ_WORKERS (1: with threads, CPython 3.11's ast.parse can fail inside Hypothesis with "AST constructor recursion depth mismatch", seen here), FUZZ_PORT (8491),
# FUZZ_TIMEOUT (900 s for the whole Schemathesis run), FUZZ_REPORT_DIR (keep JUnit and NDJSON
# reports there), OPENAPI_SPEC (a document file to use instead of the served one, e.g. from
# `giftwire openapi`), OPENAPI_VENV (/tmp/giftwire-openapi-venv). Extra arguments go to `st run`
# (e.g. --include-path-regex '^/api/v3/send').
#
# Both generation modes run (valid requests, and invalid ones that must get a documented 4xx), in
# every phase that applies (examples, coverage, fuzzing; stateful needs links in the document).
# Nothing is excluded. The server runs with --no-webhook-delivery and --webhook-allow-private:
# fuzzed webhook URLs are neither resolved (no DNS lookups of generated host names) nor
# delivered to (no traffic leaves the machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/debug/giftwire}
[ -x "$BIN" ] || cargo build --quiet
BIN=$(realpath "$BIN")
VENV=$(.ci/openapi/venv.sh)

PORT=${FUZZ_PORT:-8491}
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/giftwire-fuzz-XXXX)
PID=
trap 'if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
export GIFTWIRE_DATABASE_URL="sqlite://$WORK/fuzz.db"
export GIFTWIRE_SEALING_KEY_FILE="$WORK/sealing-key"
export RUST_LOG=${RUST_LOG:-warn}
gw() { "$BIN" "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

echo "-- seeding $GIFTWIRE_DATABASE_URL"
org=$(gw org create --name "Fuzz Corp" --time-zone America/New_York | json id)
# `seed` makes teams, 50 users (funded) and 40 touches for an organization without users, then
# walks the sends through the lifecycle: every status, with history.
gw seed --org "$org" --sends 300 --seed 7 >/dev/null
team=$(gw team create --org "$org" --name "Fuzzing" | json id)
gw team budget --team "$team" --monthly 5000 --one-time 1000 --rollover true >/dev/null
admin=$(gw user create --org "$org" --name "Fuzz Admin" --email admin@fuzz.example --team "$team" --role manager | json id)
gw user fund --user "$admin" --amount 100000 --note "fuzzing" >/dev/null
printf 'fuzz-password-1234\n' | gw user set-password --user "$admin" >/dev/null
member=$(gw user create --org "$org" --name "Fuzz Member" --email member@fuzz.example --team "$team" | json id)
gw user fund --user "$member" --amount 500 >/dev/null
touch=$(gw touch create --org "$org" --name "Fuzz eGift" --type "eGifts USA" --subtype "eGift Cards USA" \
  --currency USD --price 25.00 --description "A touch for fuzzing" --creator "$admin" --egift-prices 10-100 | json id)
gw touch create --org "$org" --name "Fuzz Box" --type "Inventoried Sends" --subtype Custom \
  --currency USD --price 40.00 --ship-to US,CA >/dev/null
send=$(gw send create --user "$admin" --touch "$touch" --recipient-name "Ada Lovelace" \
  --recipient-email ada@recipient.example --company "Analytical Engines" | json id)
gw send status --send "$send" --status Sent >/dev/null
gw send create --user "$member" --touch "$touch" --recipient-name "Grace Hopper" \
  --recipient-email grace@recipient.example >/dev/null
gw webhook create --org "$org" --url "http://127.0.0.1:9/fuzz-hook" --description "fuzzing" \
  --webhook-allow-private >/dev/null
gw app create --org "$org" --name "Fuzz integration" --redirect-uri urn:ietf:wg:oauth:2.0:oob \
  --redirect-uri http://127.0.0.1:9/callback --scopes "public write" >/dev/null
gw user invite --org "$org" --first-name Invited --last-name Person --email invited@fuzz.example \
  --team "$team" --public-url "$BASE" >/dev/null
token=$(gw token create --user "$admin" --scopes "public write update fulfillment" | json access_token)
# The SCIM token is another organization's: what SCIM's fuzzed DELETE/PUT/PATCH do to users
# (deactivate them when a generated id hits) stays out of the API token's organization.
scim_org=$(gw org create --name "Fuzz SCIM" | json id)
gw seed --org "$scim_org" --sends 20 --seed 8 >/dev/null
scim_user=$(gw user create --org "$scim_org" --name "IT Admin" --email it@fuzz.example | json id)
scim_token=$(gw token create --user "$scim_user" --scopes scim | json access_token)

echo "-- serving on $BASE"
"$BIN" serve --listen "127.0.0.1:$PORT" --rate-limit 0 --app-rate-limit 0 --auth-rate-limit 0 \
  --database-timeout 10 --sqlite-synchronous normal --no-webhook-delivery --webhook-allow-private \
  --public-url "$BASE" 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done
if ! kill -0 "$PID" 2>/dev/null || ! curl -s -o /dev/null "$BASE/"; then
  echo "FAIL: the server did not start on $BASE; its log:"
  cat "$WORK/serve.log"
  exit 1
fi
if [ -n "${OPENAPI_SPEC:-}" ]; then
  LOCATION=$(realpath "$OPENAPI_SPEC")
  URL_ARGS=(--url "$BASE")
else
  LOCATION="$BASE/openapi.json"
  URL_ARGS=()
  if ! curl -sf -o "$WORK/openapi.json" "$LOCATION"; then
    echo "FAIL: the server does not serve $LOCATION"
    cat "$WORK/serve.log"
    exit 1
  fi
fi

# Every operation is sent the full-scope token; the SCIM ones the SCIM token instead (operation
# headers override the command line's). Crash files for `st replay` go to FUZZ_REPORT_DIR/cache,
# or nowhere (Schemathesis would write them under ./.schemathesis).
if [ -n "${FUZZ_REPORT_DIR:-}" ]; then
  printf '[cache]\ndirectory = "%s/cache"\n\n' "$(realpath -m "$FUZZ_REPORT_DIR")" >"$WORK/schemathesis.toml"
else
  printf '[cache]\nenabled = false\n\n' >"$WORK/schemathesis.toml"
fi
cat >>"$WORK/schemathesis.toml" <<'EOF'
[[operations]]
include-path-regex = "^/api/scim/v2(/|$)"
headers = { Authorization = "Bearer ${GIFTWIRE_FUZZ_SCIM_TOKEN}" }
EOF
export GIFTWIRE_FUZZ_SCIM_TOKEN=$scim_token
REPORT_ARGS=()
if [ -n "${FUZZ_REPORT_DIR:-}" ]; then
  mkdir -p "$FUZZ_REPORT_DIR"
  REPORT_ARGS=(--report junit,ndjson --report-dir "$FUZZ_REPORT_DIR")
fi

echo "-- schemathesis $("$VENV/bin/st" --version | awk '{print $NF}') against $LOCATION"
rc=0
timeout "${FUZZ_TIMEOUT:-900}" "$VENV/bin/st" --config-file "$WORK/schemathesis.toml" --no-color run "$LOCATION" \
  "${URL_ARGS[@]}" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
  --seed "${FUZZ_SEED:-1}" \
  --generation-database none \
  --workers "${FUZZ_WORKERS:-1}" \
  --request-timeout 30 \
  "${REPORT_ARGS[@]}" \
  "$@" || rc=$?
if [ "$rc" = 124 ]; then
  echo "FAIL: Schemathesis did not finish within ${FUZZ_TIMEOUT:-900} s"
fi
if ! kill -0 "$PID" 2>/dev/null; then
  echo "FAIL: the server stopped during the run; its log:"
  tail -n 50 "$WORK/serve.log"
  rc=1
elif grep -q "panicked" "$WORK/serve.log"; then
  echo "FAIL: the server panicked during the run:"
  grep -A5 "panicked" "$WORK/serve.log" | head -n 40
  rc=1
fi
exit "$rc"
