#!/usr/bin/env bash
# Load benchmark of the web shell: seeds the demo city, signs in, and drives the home dashboard
# (session cookie) and the /api/v1/city endpoint (bearer token) with wrk at 64 connections.
# Prints p50 / p99 latency and requests per second for each. Not a test: numbers go to README.
#   [QCITY_BIN=path] bench/dashboard/run.sh [DURATION=20s] [CONNECTIONS=64]
set -euo pipefail
DUR="${1:-20s}"
CONN="${2:-64}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PORT="${PORT:-18190}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
# QCITY_BIN runs an already built binary; otherwise the release build is made here.
BIN="${QCITY_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/qcity}"
if [ -z "${QCITY_BIN:-}" ]; then (cd "$ROOT" && cargo build -q --release -p qcity); fi
DATA="$(mktemp -d)"
"$BIN" demo --data-dir "$DATA" --bind "127.0.0.1:$PORT" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
PW="bench-password-123"
# The demo's background generation may hold the SQLite write lock for a while: retry.
retry() { for _ in $(seq 1 40); do "$@" && return 0; sleep 3; done; return 1; }
retry sh -c "printf '%s\n' '$PW' | '$BIN' user passwd admin --password-stdin --data-dir '$DATA' >/dev/null"
TOKEN=""
for _ in $(seq 1 40); do
  TOKEN="$("$BIN" token create --user admin --name bench --data-dir "$DATA" 2>/dev/null)" && break
  sleep 3
done
[ -n "$TOKEN" ] || { echo "token create failed"; exit 1; }
JAR="$DATA/cookies"
curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" > "$DATA/login.html"
CSRF="$(grep -o 'name="_csrf" value="[^"]*"' "$DATA/login.html" | head -1 | sed 's/.*value="//;s/"//')"
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "_csrf=$CSRF" --data-urlencode "username=admin" --data-urlencode "password=$PW" "http://127.0.0.1:$PORT/login"
SESSION="$(awk '$6=="qcity_session"{print $7}' "$JAR")"
[ -n "$SESSION" ] || { echo "sign-in failed"; exit 1; }
# The demo's bulky data is generated in the background; measure once it has finished (it takes
# both cores while it runs). QCITY_BENCH_NO_WAIT=1 measures at once.
if [ -z "${QCITY_BENCH_NO_WAIT:-}" ]; then
  echo "waiting for the demo's background generation to finish…"
  while curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/jobs" | grep -q '"running"'; do sleep 5; done
fi
echo "machine: $(nproc) cores; wrk -t2 -c$CONN -d$DUR; server and load generator share the machine"
report() {
  local name="$1"; shift
  local out
  out="$(wrk -t2 -c"$CONN" -d"$DUR" --latency "$@")"
  local p50 p99 rps
  p50="$(echo "$out" | awk '$1=="50%"{print $2}')"
  p99="$(echo "$out" | awk '$1=="99%"{print $2}')"
  rps="$(echo "$out" | awk '/Requests\/sec/{print $2}')"
  local non2xx
  non2xx="$(echo "$out" | awk '/Non-2xx/{print $NF}')"
  printf '%-28s p50 %-9s p99 %-9s %10s req/s %s\n' "$name" "$p50" "$p99" "$rps" "${non2xx:+(non-2xx: $non2xx)}"
}
curl -fs -H "Cookie: qcity_session=$SESSION" "http://127.0.0.1:$PORT/app" > /dev/null
# ROUNDS (default 3) repeats each measurement; report the medians.
for round in $(seq 1 "${ROUNDS:-3}"); do
  echo "round $round"
  report "dashboard /app (session)" -H "Cookie: qcity_session=$SESSION" "http://127.0.0.1:$PORT/app"
  report "GET /api/v1/city (token)" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/city"
  report "GET /api/v1/regions (token)" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/regions"
done
