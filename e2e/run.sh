#!/usr/bin/env bash
# Runs the browser suite: builds qcity, seeds a throwaway demo city, gives every demo account
# a known password, serves it on 127.0.0.1:18090, and runs Playwright against Debian's chromium.
#   e2e/run.sh [playwright args…]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PORT="${E2E_PORT:-18090}"
BIN="${QCITY_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/qcity}"
[ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium is missing (apt-get install chromium)"; exit 1; }
if [ -z "${QCITY_BIN:-}" ]; then (cd "$ROOT" && cargo build -q -p qcity); fi
DATA="$(mktemp -d)"
export E2E_PASSWORD="e2e-password-123"
"$BIN" demo --data-dir "$DATA" --bind "127.0.0.1:$PORT" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
  sleep 0.2
done
# The demo seeds bulky data in the background; retry while it holds the write lock.
for u in admin analyst officer inspector dispatcher maintainer energy viewer; do
  for attempt in $(seq 1 20); do
    if printf '%s\n' "$E2E_PASSWORD" | "$BIN" user passwd "$u" --password-stdin --data-dir "$DATA" >/dev/null 2>"$DATA/passwd.err"; then
      break
    fi
    [ "$attempt" -lt 20 ] || { cat "$DATA/passwd.err"; exit 1; }
    sleep 3
  done
done
cd "$HERE"
[ -d node_modules/@playwright/test ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
E2E_BASE_URL="http://127.0.0.1:$PORT" npx playwright test "$@"
