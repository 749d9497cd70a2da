#!/usr/bin/env bash
# Equipment benchmarks on the real binary (release build): 96333 intake at 200 concurrent
# clients (wrk; p99 with durable commit, target < 20 ms), MQTT alarm ingest (mosquitto_pub;
# target ≥ 5,000 msg/s), and the KPI query over a year of 100,000 elevators (target < 200 ms).
# Prints medians/percentiles; never asserts timings. Usage: bench/equipment/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
if [[ $PROFILE == release ]]; then cargo build --release -p qcity -q; else cargo build -p qcity -q; fi
BIN="$CARGO_TARGET_DIR/$PROFILE/qcity"
DIR=$(mktemp -d /tmp/qcity-eqbench.XXXXXX)
PORT=${PORT:-18193}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$BIN" demo --data-dir "$DIR" --bind 127.0.0.1:$PORT >"$DIR/demo.log" 2>&1 &
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
TOKEN=$("$BIN" token create --user dispatcher --data-dir "$DIR")
echo "== intake: wrk, 200 connections, 30 s, durable commit (SQLite synchronous=full)"
QCITY_TOKEN=$TOKEN QCITY_RESCUE_FIRST=110001 QCITY_RESCUE_COUNT=15000 \
  wrk -t2 -c200 -d30s --latency -s bench/equipment/intake.lua "http://127.0.0.1:$PORT" | tee "$DIR/wrk.txt"
if command -v mosquitto_pub >/dev/null && [[ -n "${QCITY_BENCH_MQTT:-}" ]]; then
  echo "== MQTT ingest: restart with mqtt.url=$QCITY_BENCH_MQTT"
  kill %1; wait %1 2>/dev/null || true
  QCITY_MQTT_URL=$QCITY_BENCH_MQTT "$BIN" serve --data-dir "$DIR" --bind 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
  sleep 2
  python3 bench/equipment/mqtt_ingest.py "$DIR/qcity.sqlite" "${QCITY_BENCH_MQTT#mqtt://}" 20000
fi
echo "== KPI query over a year of 100,000 elevators"
cargo run --release -q -p qcity-equipment --example kpi_bench -- 100000
