#!/usr/bin/env bash
# Peer comparison: ECSI model on mobi with N bootstrap resamples, qcity-surveystat vs the PyPI
# `seminr` port (NumPy/SciPy), side by side on this machine. Prints both wall times and the ratio.
#
#   bench/surveystat/run.sh [N=5000]
#
# The seminr venv lives under /tmp (override with VENV=...); the Rust side is built in release
# mode with its own target dir (override with CARGO_TARGET_DIR=...).
set -euo pipefail
N="${1:-5000}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-/tmp/qcity-bench-seminr-venv}"
CORES="$(nproc)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet seminr==0.2.1
fi

cd "$ROOT"
cargo build --quiet --release -p qcity
CLI="$CARGO_TARGET_DIR/release/qcity"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/ecsi.toml" <<'TOML'
[constructs.Image]
items = ["IMAG1", "IMAG2", "IMAG3", "IMAG4", "IMAG5"]
[constructs.Expectation]
items = ["CUEX1", "CUEX2", "CUEX3"]
[constructs.Quality]
items = ["PERQ1", "PERQ2", "PERQ3", "PERQ4", "PERQ5", "PERQ6", "PERQ7"]
[constructs.Value]
items = ["PERV1", "PERV2"]
[constructs.Satisfaction]
items = ["CUSA1", "CUSA2", "CUSA3"]
[constructs.Complaints]
items = ["CUSCO"]
[constructs.Loyalty]
items = ["CUSL1", "CUSL2", "CUSL3"]
[[paths]]
from = "Image"
to = ["Expectation", "Satisfaction", "Loyalty"]
[[paths]]
from = "Expectation"
to = ["Quality", "Value", "Satisfaction"]
[[paths]]
from = "Quality"
to = ["Value", "Satisfaction"]
[[paths]]
from = "Value"
to = ["Satisfaction"]
[[paths]]
from = "Satisfaction"
to = ["Complaints", "Loyalty"]
[[paths]]
from = "Complaints"
to = ["Loyalty"]
TOML

# Ours: whole command (read CSV, estimate, bootstrap, quality, IPMA, write JSON), median of 3.
ours=()
for _ in 1 2 3; do
  t0=$(date +%s.%N)
  "$CLI" survey pls --data crates/engines/surveystat/tests/data/mobi.csv --model "$WORK/ecsi.toml" \
    --bootstrap "$N" --seed 1 --out "$WORK/res.json" > /dev/null 2>&1
  t1=$(date +%s.%N)
  ours+=("$(echo "$t1 - $t0" | bc -l)")
done
OURS=$(printf '%s\n' "${ours[@]}" | sort -g | sed -n 2p)

# seminr: estimate_pls + bootstrap_model(nboot=N, cores=nproc), once (it is slow).
SEMINR=$("$VENV/bin/python" "$HERE/seminr_ecsi.py" "$N" "$CORES" | awk '/^seminr_seconds/ {print $2}')

printf 'ECSI on mobi, %s bootstrap resamples, %s cores\n' "$N" "$CORES"
printf '  qcity-surveystat (CLI, median of 3): %8.3f s\n' "$OURS"
printf '  seminr %s (PyPI, cores=%s):        %8.3f s\n' "0.2.1" "$CORES" "$SEMINR"
printf '  ratio seminr / qcity: %.1fx\n' "$(echo "$SEMINR / $OURS" | bc -l)"
