#!/usr/bin/env bash
# The whole test suite: set-up, quality gates, then every pytest test.
# `.ci/run` calls exactly this. Extra arguments go to pytest (e.g. `-k scheduler`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
./scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"

step() { printf '\n===== %s =====\n' "$*"; }

step "ruff"
ruff check .

step "ansible-lint (production profile)"
ansible-lint --offline -q

step "ansible-test sanity"
./scripts/sanity.sh

step "pytest"
# upstream Swift in its own venv: the ring tests cross-check our .ring.gz with Swift's Ring class
./benchmarks/ring/setup-swift-venv.sh
# the lab's host image (podman), used by the lab tests and every role's molecule scenario
./lab/build-host-image.sh
# the test image the guests boot
./images/build-test-image.sh
# tests/integration/aaa_reset runs first: scripts/reset.sh wipes what ministack made on this
# machine, then ./scripts/aio.sh must pass from zero (twice, the second changing nothing).
export MINISTACK_RESET_TESTS=1
# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
set +e
# the slowest tests, so that the budget (docs/testing.md) can be checked from the CI log
python -m pytest tests --durations=25 --durations-min=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$rc"
