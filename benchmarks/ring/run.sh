#!/usr/bin/env bash
# Ring benchmark: ministack's ring builder against upstream swift-ring-builder on the same devices.
#   benchmarks/ring/run.sh            # all cases (upstream at part power 20 takes minutes)
#   benchmarks/ring/run.sh --quick    # part power 16 and 18 only
# Results: benchmarks/ring/results.md and results.json (docs/ring.md quotes them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$ROOT/benchmarks/ring/setup-swift-venv.sh" >/dev/null 2>&1 || {
  echo "cannot create .cache/venv-swift (upstream swift from PyPI); see benchmarks/ring/setup-swift-venv.sh" >&2
  exit 1
}
CASES="C,D,H"
[ "${1:-}" = "--quick" ] && CASES="C,D"
exec "$ROOT/.venv/bin/python" "$ROOT/benchmarks/ring/bench.py" --cases "$CASES" \
  --json "$ROOT/benchmarks/ring/results.json" --markdown "$ROOT/benchmarks/ring/results.md"
