#!/usr/bin/env bash
# Report/portal benchmark: the public portal home and a published report page at 64
# concurrent connections (wrk, p50/p99), and PDF generation of a full report (median of N).
# Targets: p99 < 50 ms for the pages; PDF < 3 s.
#   bench/report/run.sh                 # builds qcity --release, seeds a demo city, measures
#   QCITY_BIN=path/to/qcity bench/report/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${BENCH_PORT:-18194}"
DURATION="${BENCH_DURATION:-15s}"
PDF_RUNS="${BENCH_PDF_RUNS:-5}"
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 1; }
if [ -z "${QCITY_BIN:-}" ]; then
  (cd "$ROOT" && cargo build -q --release -p qcity)
  QCITY_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/qcity"
fi
DATA="$(mktemp -d)"
"$QCITY_BIN" demo --data-dir "$DATA" --bind "127.0.0.1:$PORT" > "$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 600); do
  curl -fs "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
  sleep 0.2
done
# The demo reports are assembled in the background once the other modules' data is there.
for _ in $(seq 1 600); do
  n=$(curl -fs "$BASE/api/v1/public/990100/indicators" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["reports"]))' 2>/dev/null || echo 0)
  [ "$n" -ge 2 ] && break
  sleep 1
done
YEAR=$(curl -fs "$BASE/api/v1/public/990100/indicators" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"][0]["year"])')
echo "qcity report bench — $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), report year $YEAR"
for path in "/p/990100" "/p/990100/reports/$YEAR"; do
  curl -fs -o /dev/null "$BASE$path"   # warm the cache
  out=$(wrk -t2 -c64 -d"$DURATION" --latency "$BASE$path")
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  echo "GET $path  c=64  p50=$p50  p99=$p99  req/s=$rps  (target p99 < 50ms)"
done
times=()
for _ in $(seq 1 "$PDF_RUNS"); do
  t=$(curl -fs -o /dev/null -w '%{time_total}' "$BASE/p/990100/reports/$YEAR.pdf")
  times+=("$t")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "PDF /p/990100/reports/$YEAR.pdf  runs=$PDF_RUNS  median=${median}s  all=${times[*]}  (target < 3 s)"
