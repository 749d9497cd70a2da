#!/usr/bin/env bash
# Metering ingest benchmarks on the real binary (release by default; --debug for a quick look),
# against a minimal city (no demo, so no background data generation competes for the cores):
#   1. sustained HTTP batch ingest, JSON, durable commit into SQLite (target ≥ 100,000 readings/s)
#   2. CSV backfill through the same endpoint (target ≥ 500,000 rows/s)
#   3. MQTT end to end: mosquitto_pub → broker → qcity → committed rows (target ≥ 20,000/s).
#      Starts its own mosquitto on port 18830 with the settings recommended for meter ingest
#      (max_inflight_messages 1000, max_queued_messages 1000000: mosquitto's defaults, 20 and
#      1000, cap a QoS 1 subscriber that acknowledges only after commit at 20 messages per
#      commit and drop messages beyond 1000 queued). Needs mosquitto and mosquitto_pub.
# Each figure is the median of 3 runs; never asserts timings.
# Usage: bench/metering/run.sh [--debug]   (QCITY_BIN=path skips the build)
#   QCITY_BENCH_ONLY=json,csv,mqtt   run only these parts (default all)
#   QCITY_BENCH_CSV_TS=iso           CSV timestamps as ISO 8601 with offset (default epoch seconds)
#   QCITY_BENCH_WRAP="perf record -g -o /tmp/p.data --"   prefix for `qcity serve` (profiling)
#   QCITY_BENCH_LOG=FILE             keep the server's log (with QCITY_LOG__FILTER=info,qcity_metering=debug
#                                    it holds store::ingest's prep / write / rollups / commit timings)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
if [[ -z "${QCITY_BIN:-}" ]]; then
  if [[ $PROFILE == release ]]; then cargo build --release -p qcity -q; else cargo build -p qcity -q; fi
fi
BIN="${QCITY_BIN:-$CARGO_TARGET_DIR/$PROFILE/qcity}"
DIR=$(mktemp -d /tmp/qcity-mtbench.XXXXXX)
PORT=${PORT:-18195}
MQTT_PORT=${MQTT_PORT:-18830}
MQTT=mqtt://127.0.0.1:$MQTT_PORT
trap 'kill $(jobs -p) 2>/dev/null || true; [[ -n "${QCITY_BENCH_LOG:-}" ]] && cp "$DIR/serve.log" "$QCITY_BENCH_LOG"; rm -rf "$DIR"' EXIT
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 1000\nmax_queued_messages 1000000\n' "$MQTT_PORT" >"$DIR/mosquitto.conf"
mosquitto -c "$DIR/mosquitto.conf" >"$DIR/mosquitto.log" 2>&1 &
sleep 0.5
Q=(--data-dir "$DIR")
"$BIN" migrate "${Q[@]}" >/dev/null
"$BIN" city add 990100 --name-zh 示范市 --name-en "Bench City" "${Q[@]}" >/dev/null
printf 'code,parent_code,name_zh,name_en,urban,population,area_km2,boundary\n990100,,示范市,Bench City,true,1000000,100,\n990101,990100,中心区,Central,true,100000,10,\n' >"$DIR/regions.csv"
"$BIN" region import --file "$DIR/regions.csv" "${Q[@]}" >/dev/null
echo 'bench-password-123456' | "$BIN" user add admin --role admin --region 990100 --password-stdin "${Q[@]}" >/dev/null
TOKEN=$("$BIN" token create --user admin "${Q[@]}")
echo "mosquitto on :$MQTT_PORT with max_inflight_messages 1000, max_queued_messages 1000000 (defaults 20 / 1000 would cap and drop QoS 1 ingest)"
# shellcheck disable=SC2086
QCITY_MQTT_URL=$MQTT ${QCITY_BENCH_WRAP:-} "$BIN" serve "${Q[@]}" --bind 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
python3 bench/metering/ingest.py "http://127.0.0.1:$PORT" "$TOKEN" "$DIR/qcity.sqlite" "$MQTT"
