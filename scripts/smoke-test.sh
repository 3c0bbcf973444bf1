#!/usr/bin/env bash
# Smoke test of a running RAGOps API (the pipeline's staging check; works against any URL):
#
#   scripts/smoke-test.sh URL        # e.g. https://rag.staging.example.com or http://127.0.0.1:8000
#
# /healthz answers, /readyz reports every dependency ready (retried for up to READY_SECONDS,
# default 120: pods may still be starting after a deploy), and a question gets a 200 JSON answer.
# It reads only: nothing is uploaded. SMOKE_TOKEN, when set, is sent as a bearer token.
# Exit 0 when all pass; 1 with what failed; 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 URL" >&2
  exit 2
fi
url=${1%/}
ready_seconds=${READY_SECONDS:-120}
auth=()
[ -n "${SMOKE_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $SMOKE_TOKEN")
body=$(mktemp)
trap 'rm -f "$body"' EXIT

status() {  # status METHOD PATH [JSON]: prints the HTTP status, the body goes to $body
  local args=(-sS -o "$body" -w '%{http_code}' --max-time 60 -X "$1" "${auth[@]}")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
  curl "${args[@]}" "$url$2" || echo 000
}

fail() {
  echo "smoke test of $url FAILED: $1" >&2
  head -c 2000 "$body" >&2 || true
  echo >&2
  exit 1
}

code=$(status GET /healthz)
[ "$code" = 200 ] || fail "/healthz answered $code"
echo "ok   /healthz"

deadline=$((SECONDS + ready_seconds))
until [ "$(status GET /readyz)" = 200 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "/readyz not 200 within ${ready_seconds}s"
  sleep 3
done
echo "ok   /readyz"

code=$(status POST /api/ask '{"query": "What is this service for?"}')
[ "$code" = 200 ] || fail "POST /api/ask answered $code"
grep -q '"answer"' "$body" || fail "POST /api/ask returned no answer"
echo "ok   POST /api/ask"
echo "smoke test of $url passed"
