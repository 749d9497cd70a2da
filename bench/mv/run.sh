#!/usr/bin/env bash
# Side-by-side: PyPI eemeter 2.10.11 (last release with the CalTRACK 2.0 usage-per-day and
# hourly TOWT reference implementation) vs qcity-mv on eemeter's sample meters.
# Usage: bench/mv/run.sh   (venv in /tmp; set VENV to reuse another)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${VENV:-/tmp/qcity-mv-eemeter-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-mv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  # eemeter 2.10 predates pandas 2 / numpy 2: pin a compatible stack.
  "$VENV/bin/pip" install -q 'eemeter==2.10.11' 'pandas==1.5.3' 'numpy<2' 'scipy<1.12' \
    'statsmodels==0.13.5' pytz
fi
(cd "$ROOT" && cargo build -q --release -p qcity)
export QCITY_ENERGY="$CARGO_TARGET_DIR/release/qcity energy"
"$VENV/bin/python" "$ROOT/bench/mv/eemeter_side_by_side.py" "$@"
