#!/usr/bin/env bash
# Deploy the all-in-one of tests/integration/object (object_host + object_proxy on this machine,
# eight devices on a tmpfs, policies gold/silver/ec42), run bench_object.py for the replicated
# and the erasure-coded policy, then stop Swift and unmount. Needs root. One Swift per machine:
# this stops any Swift already running here.
#   ./benchmarks/object/run.sh [--keep]     (--keep leaves the cluster running)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
WORK="$(mktemp -d /tmp/ministack-object-bench.XXXXXX)"
python - "$WORK" <<'PY'
import pathlib, subprocess, sys
sys.path.insert(0, "tests/integration")
from object.conftest import DEVICES_ROOT, aio_inventory, run_playbook, stop_swift, wait_for_proxy
work = pathlib.Path(sys.argv[1])
stop_swift()
subprocess.run(["umount", DEVICES_ROOT], capture_output=True)
pathlib.Path(DEVICES_ROOT).mkdir(parents=True, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536m", "tmpfs", DEVICES_ROOT], check=True)
run = run_playbook(work, "deploy.yml", inventory=aio_inventory(work / "hosts.yml", work / "cluster"), timeout=1800)
if run.rc != 0:
    sys.exit(run.stdout[-3000:])
wait_for_proxy()
PY
python benchmarks/object/bench_object.py --policies gold,ec42 --json benchmarks/object/results.json
if [ "${1:-}" != "--keep" ]; then
  python -c "import sys; sys.path.insert(0, 'tests/integration'); from object.conftest import stop_swift; stop_swift()"
  umount /srv/ministack-test-node || true
fi
