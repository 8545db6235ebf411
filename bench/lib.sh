# Shared by the write benchmarks (create-sends.sh, soak.sh); sourced, not run.
# Sets REPO and BIN, installs wrk when missing, builds the release binary, and offers:
#   json KEY              the KEY of the JSON object on stdin
#   egift_fixture URL TAG [ORG]  a user, an eGift touch and a token that may read and create,
#                         in ORG or a new organization; sets ORG, TOUCH and TOKEN
#   serve URL PORT LOG [ARGS...]  the server in the background (PID), once it answers
# BIN=<binary> measures that binary instead (e.g. one built from an earlier revision), unbuilt.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BIN:-}" ]; then
  BIN=$REPO/target/release/giftwire
  (cd "$REPO" && cargo build --release --quiet)
fi

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

egift_fixture() { # URL TAG [ORG]
  local url=$1 tag=$2 user
  ORG=${3:-$("$BIN" --database "$url" org create --name "Bench $tag" --time-zone UTC | json id)}
  user=$("$BIN" --database "$url" user create --org "$ORG" --name Bench --email "bench-$$-$tag@bench.example" | json id)
  # Sends draw from their sender's balance (binaries from before balances have no `user fund`).
  "$BIN" --database "$url" user fund --user "$user" --amount 1000000000 >/dev/null 2>&1 || true
  TOUCH=$("$BIN" --database "$url" touch create --org "$ORG" --name "eGift" --type "eGifts USA" \
    --subtype "eGift Cards USA" --currency USD --price 25 | json id)
  TOKEN=$("$BIN" --database "$url" token create --user "$user" --scopes "public write" | json access_token)
}

serve() { # URL PORT LOG [global ARGS...]
  local url=$1 port=$2 log=$3; shift 3
  RUST_LOG=warn "$BIN" --database "$url" "$@" serve --listen "127.0.0.1:$port" --rate-limit 0 2>"$log" &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
}
