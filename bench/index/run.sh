#!/usr/bin/env bash
# Peer comparison: ProMCDA (PyPI) vs qcity-index on the same ASEM indicator data:
# N Monte Carlo replications of random weights over 51 units × 49 indicators, min-max
# normalisation, weighted arithmetic mean. Prints both timings and the ratio.
#
#   bench/index/run.sh [N]        (default N = 1000)
#
# ProMCDA is installed in a virtual environment outside the repository
# (${PROMCDA_VENV:-/tmp/qcity-bench-promcda}). The ProMCDA 1.0.8 wheel on PyPI lacks its
# subpackages (mcda.configuration, mcda.utility_functions), so when they are missing the
# script takes the same release's sdist with `pip download` and puts it on PYTHONPATH.
set -euo pipefail
N="${1:-1000}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${PROMCDA_VENV:-/tmp/qcity-bench-promcda}"
WORK="$(mktemp -d /tmp/qcity-bench-index.XXXXXX)"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q "ProMCDA==1.0.8"
PYPATH=""
if ! "$VENV/bin/python" -c "import mcda.configuration.config, mcda.utility_functions.normalization" 2>/dev/null; then
  SDIST="$VENV/promcda-sdist"
  if [ ! -d "$SDIST/ProMCDA-1.0.8/mcda/configuration" ]; then
    mkdir -p "$SDIST"
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: "ProMCDA==1.0.8" -d "$SDIST"
    tar xzf "$SDIST"/ProMCDA-1.0.8.tar.gz -C "$SDIST"
  fi
  PYPATH="$SDIST/ProMCDA-1.0.8"
fi

cd "$ROOT"
cargo build --release -q -p qcity-index --example promcda_peer
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/promcda_peer"
"$BIN" prepare "$WORK" >/dev/null
QCITY="$("$BIN" time "$WORK" "$N" | tail -1)"
PROMCDA="$(PYTHONPATH="$PYPATH" "$VENV/bin/python" "$ROOT/bench/index/promcda_bench.py" "$WORK" "$N" | tail -1)"

python3 - "$QCITY" "$PROMCDA" "$N" <<'PY'
import json, sys
q, p, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"N = {n} replications, 51 units x 49 indicators (ASEM, imputed), min-max + weighted mean")
print(f"ProMCDA 1.0.8 (2 processes)   : {p['promcda_seconds']:.3f} s")
print(f"qcity-index ({q['threads']} threads)       : {q['qcity_seconds_all_threads']:.4f} s")
print(f"qcity-index (1 thread)        : {q['qcity_seconds_one_thread']:.4f} s")
print(f"ratio ProMCDA / qcity         : {p['promcda_seconds'] / q['qcity_seconds_all_threads']:.0f}x "
      f"(one thread: {p['promcda_seconds'] / q['qcity_seconds_one_thread']:.0f}x)")
print(f"Spearman(ProMCDA mean-score ranking, qcity mean ranks) = {p['spearman_mean_ranks']:.3f}")
PY
rm -rf "$WORK"
