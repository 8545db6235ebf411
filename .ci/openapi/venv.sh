#!/usr/bin/env bash
# Makes sure the virtualenv of the OpenAPI checkers exists with requirements.txt installed
# (again when that file changed), and prints its path: $OPENAPI_VENV, or /tmp/giftwire-openapi-venv.
#   VENV=$(.ci/openapi/venv.sh) && "$VENV/bin/python" .ci/openapi/validate.py SPEC DIR
set -euo pipefail
REQS="$(dirname "$0")/requirements.txt"
VENV=${OPENAPI_VENV:-/tmp/giftwire-openapi-venv}
if [ ! -x "$VENV/bin/st" ] || ! cmp -s "$REQS" "$VENV/giftwire-requirements.txt"; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" 2>/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  "$VENV/bin/pip" install -q -r "$REQS" >&2
  cp "$REQS" "$VENV/giftwire-requirements.txt"
fi
echo "$VENV"
