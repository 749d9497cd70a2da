#!/usr/bin/env bash
# Long fuzz runs of every importer and parser, through the same proptest generators that
# `cargo test` runs briefly each time: uploads (CSV in UTF-8/BOM/GBK, XLSX: damaged, sparse,
# far-apart cells, zip bombs), the index spec TOML, the questionnaire JSON, and the MQTT alarm
# and reading frames. Nothing may panic and nothing may allocate past the upload limits.
# A failure is shrunk and its seed saved by proptest in the test's `*.proptest-regressions`
# file beside it (commit it: every later `cargo test` replays it first).
#   fuzz/run.sh [cases per property]     (default 20000; release build, or FUZZ_PROFILE=test to
#                                         reuse the test build)
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${1:-20000}"
export PROPTEST_CASES="$CASES"
status=0
log="$(mktemp)"
run() {
  local what="$1"; shift
  local t0; t0=$(date +%s)
  echo "== $what ($CASES cases per property)"
  if ! cargo test --profile "${FUZZ_PROFILE:-release}" "$@" >"$log" 2>&1; then status=1; fi
  grep -E "^test .* (ok|FAILED)$|test result: .* [1-9][0-9]* passed|panicked|minimal failing" "$log" || true
  echo "   $(( $(date +%s) - t0 )) s"
}
run "uploads: CSV and XLSX readers"      -p qcity-platform --test upload
run "index spec TOML"                    -p qcity-index --test it -- props::
run "questionnaire JSON"                 -p qcity-survey --lib model_fuzz
run "MQTT elevator alarm frames"         -p qcity-equipment --lib mqtt::tests
run "MQTT meter reading frames"          -p qcity-metering --lib mqtt::tests
rm -f "$log"
exit "$status"
