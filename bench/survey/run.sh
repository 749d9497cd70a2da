#!/usr/bin/env bash
# Response submission through HTTP with durable storage (target ≥ 1,000 responses/s).
# Usage: bench/survey/run.sh            (SQLite file, WAL, synchronous=FULL)
#        QCITY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/bench bench/survey/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench -p qcity-survey --bench submit
