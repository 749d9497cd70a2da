#!/usr/bin/env bash
# Metering ingest benchmarks on the real binary (release by default; --debug for a quick look):
# sustained HTTP batch ingest (JSON, durable commit into SQLite; target ≥ 100,000 readings/s)
# and CSV backfill (target ≥ 500,000 rows/s). Prints medians; never asserts timings.
# MQTT end to end is NOT measured yet (see README).
# Usage: bench/metering/run.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=target}"
export CARGO_TARGET_DIR
PROFILE=release
[[ "${1:-}" == "--debug" ]] && PROFILE=debug
if [[ $PROFILE == release ]]; then cargo build --release -p qcity -q; else cargo build -p qcity -q; fi
BIN="$CARGO_TARGET_DIR/$PROFILE/qcity"
DIR=$(mktemp -d /tmp/qcity-mtbench.XXXXXX)
PORT=${PORT:-18195}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT
"$BIN" demo --data-dir "$DIR" --bind 127.0.0.1:$PORT >"$DIR/demo.log" 2>&1 &
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
TOKEN=$("$BIN" token create --user admin --data-dir "$DIR")
python3 bench/metering/ingest.py "http://127.0.0.1:$PORT" "$TOKEN"
