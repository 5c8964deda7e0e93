#!/usr/bin/env bash
# Scheduler benchmark (not a timed test): ministack.cloud's select_hosts on 10,000 hosts and on a
# 1,000-instance request, next to upstream Nova's own filter/weigher classes on the same host states.
# Nova is installed from PyPI into its own virtualenv (.cache/bench-nova), never the project's .venv.
# Prints a markdown table. SKIP_NOVA=1 runs ministack only; NOVA_BENCH_REPEAT / NOVA_BENCH_MAX_INSTANCES
# bound Nova's (slow) runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/.cache/bench-scheduler"
NOVA_VENV="$ROOT/.cache/bench-nova"
NOVA_VERSION="${NOVA_VERSION:-34.0.0}"
PY="$ROOT/.venv/bin/python"
mkdir -p "$OUT"

"$PY" "$HERE/bench_ministack.py" > "$OUT/ministack.json"

nova_json=""
if [ "${SKIP_NOVA:-0}" != 1 ]; then
    if ! "$NOVA_VENV/bin/python" -c "import nova.scheduler.manager" 2>/dev/null; then
        echo "Installing nova==$NOVA_VERSION into $NOVA_VENV (a few minutes)..." >&2
        python3 -m venv "$NOVA_VENV"
        "$NOVA_VENV/bin/pip" install -q --upgrade pip >&2
        "$NOVA_VENV/bin/pip" install -q "nova==$NOVA_VERSION" >&2
    fi
    if "$NOVA_VENV/bin/python" -W ignore "$HERE/bench_nova.py" > "$OUT/nova.json" 2> "$OUT/nova.log"; then
        nova_json="$OUT/nova.json"
    else
        echo "Nova run failed; see $OUT/nova.log" >&2
    fi
fi

echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"\
     "load average $(cut -d' ' -f1-3 /proc/loadavg), $("$PY" -V 2>&1)"
echo
"$PY" "$HERE/compare.py" "$OUT/ministack.json" $nova_json
