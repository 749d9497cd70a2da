#!/usr/bin/env bash
# Report/portal benchmark: the public portal home and a published report page at 64
# concurrent connections (wrk, p50/p99), and PDF generation of a full report (median of N,
# typeset afresh each time through the staff PDF address, which is never cached).
# Targets: p99 < 50 ms for the pages; PDF < 3 s.
#   bench/report/run.sh                 # builds qcity --release, seeds a demo city, measures
#   QCITY_BIN=path/to/qcity bench/report/run.sh
# Settings: BENCH_PORT (18194), BENCH_DURATION (15s), BENCH_CONNECTIONS (64), BENCH_PDF_RUNS (5),
# QCITY_BENCH_NO_WAIT=1 to measure without waiting for the demo's background generation.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PORT="${BENCH_PORT:-18194}"
DURATION="${BENCH_DURATION:-15s}"
CONN="${BENCH_CONNECTIONS:-64}"
PDF_RUNS="${BENCH_PDF_RUNS:-5}"
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 1; }
command -v python3 >/dev/null || { echo "bench: python3 is missing"; exit 1; }
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

# An analyst session (the staff PDF address typesets on every request) and an admin token
# (background-job progress). The demo's background generation may hold the SQLite write lock.
PW="bench-password-123"
for u in analyst admin; do
  for attempt in $(seq 1 20); do
    printf '%s\n' "$PW" | "$QCITY_BIN" user passwd "$u" --password-stdin --data-dir "$DATA" >/dev/null 2>&1 && break
    [ "$attempt" -lt 20 ] || { echo "bench: cannot set the $u password"; exit 1; }
    sleep 3
  done
done
TOKEN=""
for attempt in $(seq 1 20); do
  TOKEN="$("$QCITY_BIN" token create --user admin --data-dir "$DATA" 2>/dev/null)" && break
  sleep 3
done
JAR="$DATA/cookies"
curl -s -c "$JAR" -b "$JAR" "$BASE/login" > "$DATA/login.html"
CSRF="$(grep -o 'name="_csrf" value="[^"]*"' "$DATA/login.html" | head -1 | sed 's/.*value="//;s/"//')"
curl -s -c "$JAR" -b "$JAR" -o /dev/null --data-urlencode "_csrf=$CSRF" \
  --data-urlencode "username=analyst" --data-urlencode "password=$PW" "$BASE/login"
SESSION="$(awk '$6=="qcity_session"{print $7}' "$JAR")"
[ -n "$SESSION" ] || { echo "bench: analyst sign-in failed"; exit 1; }

# The demo reports are assembled in the background once the other modules' data is there.
for _ in $(seq 1 600); do
  n=$(curl -fs "$BASE/api/v1/public/990100/indicators" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["reports"]))' 2>/dev/null || echo 0)
  [ "$n" -ge 2 ] && break
  sleep 1
done
if [ -z "${QCITY_BENCH_NO_WAIT:-}" ] && [ -n "$TOKEN" ]; then
  echo "waiting for the demo's background generation to finish…"
  while curl -fs -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/jobs" | grep -q '"running"'; do sleep 5; done
fi
YEAR=$(curl -fs "$BASE/api/v1/public/990100/indicators" | python3 -c 'import json,sys; print(json.load(sys.stdin)["reports"][0]["year"])')
ID=$(curl -fs -H "Cookie: qcity_session=$SESSION" "$BASE/api/v1/reports" \
  | python3 -c "import json,sys; d=json.load(sys.stdin); d=d.get('items', d) if isinstance(d, dict) else d; print([v['id'] for v in d if v['status']=='published' and v['year']==$YEAR][0])")
echo "qcity report bench — $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), report $YEAR (version id $ID)"
echo "wrk -t2 -c$CONN -d$DURATION; server and load generator share the machine"

measure() {
  local path="$1"
  curl -fs -o /dev/null "$BASE$path"   # the first request fills the portal cache
  local out p50 p99 rps non2xx
  out=$(wrk -t2 -c"$CONN" -d"$DURATION" --latency "$BASE$path")
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/{print $NF}')
  echo "GET $path  c=$CONN  p50=$p50  p99=$p99  req/s=$rps${non2xx:+  non-2xx=$non2xx}  (target p99 < 50ms)"
}
measure "/p/990100"
measure "/p/990100/reports/$YEAR"

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for lang in zh-CN en; do
  times=()
  for _ in $(seq 1 "$PDF_RUNS"); do
    t=$(curl -fs -o "$DATA/r.pdf" -w '%{time_total}' -H "Cookie: qcity_session=$SESSION; qcity_lang=$lang" "$BASE/app/reports/$ID/pdf")
    times+=("$t")
  done
  pages=$( (command -v pdfinfo >/dev/null && pdfinfo "$DATA/r.pdf" | awk '/^Pages:/{print $2}') || echo "?")
  echo "PDF typeset ($lang, $pages pages, $(stat -c %s "$DATA/r.pdf") bytes)  runs=$PDF_RUNS  median=$(printf '%s\n' "${times[@]}" | median)s  all=${times[*]}  (target < 3 s)"
done
# The public PDF of a published (immutable) version is typeset once, then served from memory.
first=$(curl -fs -o /dev/null -w '%{time_total}' "$BASE/p/990100/reports/$YEAR.pdf")
again=$(curl -fs -o /dev/null -w '%{time_total}' "$BASE/p/990100/reports/$YEAR.pdf")
echo "public PDF /p/990100/reports/$YEAR.pdf  first=${first}s  cached=${again}s"
