#!/usr/bin/env bash
# What authentication and rate limiting cost a listing (GET /api/v3/send?per_page=100, wrk -t2
# -c16), side by side on one SQLite database of 10,000 sends:
#   off        the limits disabled (--rate-limit 0 --app-rate-limit 0 --auth-rate-limit 0)
#   on         an operator token under its limit (--rate-limit 1000000: every request checks its
#              bucket and none is refused)
#   oauth      an OAuth access token under its application's limit (--app-rate-limit 1000000);
#              OAuth tokens are looked up on every request, never cached
#   before     (with BEFORE=<git rev>, or BEFORE_BIN=<a binary>) that revision's binary,
#              --rate-limit 0
# Each configuration runs ROUNDS times (default 2), alternating. Usage: bench/rate-limit.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
WORK=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
PID=

BEFORE_BIN=${BEFORE_BIN:-}
if [ -z "$BEFORE_BIN" ] && [ -n "${BEFORE:-}" ]; then
  BEFORE_BIN=$WORK/giftwire-before
  git -C "$REPO" worktree add -f "$WORK/before" "$BEFORE" >/dev/null 2>&1
  (cd "$WORK/before" && CARGO_TARGET_DIR="$REPO/target/bench-before" cargo build --release --quiet)
  cp "$REPO/target/bench-before/release/giftwire" "$BEFORE_BIN"
  git -C "$REPO" worktree remove -f "$WORK/before"
fi

URL="sqlite://$WORK/bench.db"
# The data is made by the oldest binary of the run: a newer one's migrations are unknown to an
# older one, which refuses such a database. Each binary then serves its own copy of it.
NEW_BIN=$BIN
BIN=${BEFORE_BIN:-$NEW_BIN}
egift_fixture "$URL" limits
"$BIN" --database "$URL" seed --org "$ORG" --sends 10000 >/dev/null
BIN=$NEW_BIN
if [ -n "$BEFORE_BIN" ]; then
  for f in "$WORK"/bench.db*; do cp "$f" "${f/bench.db/before.db}"; done
fi
USER_ID=$("$BIN" --database "$URL" user create --org "$ORG" --name Signer --email signer@bench.example | json id)
echo 'bench password 1' | "$BIN" --database "$URL" user set-password --user "$USER_ID" >/dev/null
APP=$("$BIN" --database "$URL" app create --org "$ORG" --name Bench --redirect-uri urn:ietf:wg:oauth:2.0:oob)
CLIENT_ID=$(echo "$APP" | json client_id)
SECRET=$(echo "$APP" | json client_secret)

# An OAuth token the way a browser and a client get one: sign in, allow, exchange.
oauth_token() { # PORT
  python3 - "$1" "$CLIENT_ID" "$SECRET" <<'PY'
import base64, http.cookiejar, json, re, sys, urllib.parse, urllib.request
port, cid, secret = sys.argv[1:]
base = f"http://127.0.0.1:{port}"
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
def call(path, data=None, headers={}):
    req = urllib.request.Request(base + path, data=urllib.parse.urlencode(data).encode() if data else None, headers=headers)
    try: r = opener.open(req)
    except urllib.error.HTTPError as e: r = e
    return r.status, r.headers, r.read().decode()
csrf = lambda html: re.search(r'name="csrf" value="([^"]+)"', html).group(1)
_, _, page = call("/sign_in")
call("/sign_in", {"csrf": csrf(page), "email": "signer@bench.example", "password": "bench password 1", "return_to": "/"})
q = urllib.parse.urlencode({"client_id": cid, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "response_type": "code", "scope": "public"})
_, _, consent = call("/oauth/authorize?" + q)
fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', consent))
fields["decision"] = "allow"
_, headers, _ = call("/oauth/authorize", fields)
code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["location"]).query)["code"][0]
basic = base64.b64encode(f"{cid}:{secret}".encode()).decode()
_, _, body = call("/oauth/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"}, {"Authorization": "Basic " + basic})
print(json.loads(body)["access_token"])
PY
}

run() { # NAME BINARY ARGS...
  local name=$1 bin=$2; shift 2
  local url=$URL
  [ "$name" = before ] && url="sqlite://$WORK/before.db"
  RUST_LOG=warn "$bin" --database "$url" serve --listen 127.0.0.1:18131 "$@" 2>"$WORK/$name.log" &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:18131/ && break; sleep 0.1; done
  kill -0 "$PID" 2>/dev/null || { echo "$name did not start:"; cat "$WORK/$name.log"; exit 1; }
  local token=$TOKEN
  [ "$name" = oauth ] && token=$(oauth_token 18131)
  local target="http://127.0.0.1:18131/api/v3/send?per_page=100"
  wrk -t2 -c16 -d2s -H "Authorization: Bearer $token" "$target" >/dev/null
  local out
  out=$(wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $token" "$target")
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  printf '%-7s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
  kill "$PID"; wait "$PID" 2>/dev/null || true
}

# Each round starts with another configuration (the machine's pace drifts during a run), and
# the means are printed at the end.
CONFIGS=(off on oauth)
[ -n "$BEFORE_BIN" ] && CONFIGS=(before off on oauth)
one() {
  case $1 in
    before) run before "$BEFORE_BIN" --rate-limit 0 ;;
    off) run off "$BIN" --rate-limit 0 --app-rate-limit 0 --auth-rate-limit 0 ;;
    on) run on "$BIN" --rate-limit 1000000 ;;
    oauth) run oauth "$BIN" --app-rate-limit 1000000 ;;
  esac
}
for round in $(seq 0 $((ROUNDS - 1))); do
  for i in $(seq 0 $((${#CONFIGS[@]} - 1))); do
    one "${CONFIGS[$(((i + round) % ${#CONFIGS[@]}))]}"
  done
done | tee "$WORK/results"
echo "means:"
awk '{n[$1]++; r[$1]+=$2} END {for (k in n) printf "%-7s %10.0f req/s over %d runs\n", k, r[k]/n[k], n[k]}' "$WORK/results" | sort
