#!/usr/bin/env bash
# Each integration area, alone, right after a reset (issue 10: no test may depend on what
# another left behind). For every folder under tests/integration/ (or the ones named):
#   scripts/reset.sh --yes; python -m pytest tests/integration/<area>
# Holds the machine lock (tests/helpers/machine_lock.py) exclusively the whole time, so no other
# checkout's test run is wiped under it. Prints one line per area and a summary; the logs go to
# artifacts/areas-from-zero/. Takes about as long as the test command.
# MINISTACK_KEEP_LABS="l12 obj15" spares other checkouts' named podman labs (reset.sh --keep-lab).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
LOCK_DIR="${MINISTACK_LOCK_DIR:-/run/lock}"
mkdir -p "$LOCK_DIR" artifacts/areas-from-zero
exec 9>>"$LOCK_DIR/ministack-machine.lock"
# new test runs hold back while this waits for the running ones (tests/helpers/machine_lock.py)
touch "$LOCK_DIR/ministack-machine.wanted"
trap 'rm -f "$LOCK_DIR/ministack-machine.wanted"' EXIT
echo "waiting for the machine lock (other checkouts' test runs end first)"
flock -x 9
export MINISTACK_MACHINE_LOCK_HELD=1
if [ "$#" -gt 0 ]; then AREAS=("$@"); else
  mapfile -t AREAS < <(find tests/integration -mindepth 1 -maxdepth 1 -type d ! -name '__pycache__' ! -name aaa_reset -printf '%f\n' | sort)
fi
failed=()
for area in "${AREAS[@]}"; do
  log="artifacts/areas-from-zero/$area.log"
  start=$(date +%s)
  keep=()
  for lab in ${MINISTACK_KEEP_LABS:-}; do keep+=(--keep-lab "$lab"); done
  # the Swift lock too: a benchmark or playbook outside pytest may be using this machine's Swift
  if ! flock -x "$LOCK_DIR/ministack-swift.lock" ./scripts/reset.sh --yes "${keep[@]}" >"$log" 2>&1; then
    echo "$area: the reset failed (see $log)"; failed+=("$area"); continue
  fi
  ./scripts/daemons.sh >>"$log" 2>&1
  python -m pytest "tests/integration/$area" -q -p no:cacheprovider --durations=20 --durations-min=10 >>"$log" 2>&1
  rc=$?
  summary=$(grep -E '^[0-9]+ (passed|failed|error)|^=+ .*(passed|failed|error|skipped|deselected).* =+$' "$log" | tail -1)
  echo "$area: rc=$rc, $(( $(date +%s) - start )) s, $summary"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ] || failed+=("$area")
done
if [ "${#failed[@]}" -gt 0 ]; then echo "failed alone after a reset: ${failed[*]}"; exit 1; fi
echo "every area passed alone after a reset"
