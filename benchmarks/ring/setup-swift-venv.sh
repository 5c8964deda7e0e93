#!/usr/bin/env bash
# Create .cache/venv-swift with upstream OpenStack Swift, used only as a reference:
# the ring cross-check tests load our .ring.gz with Swift's own Ring class, and the
# ring benchmark times upstream RingBuilder on the same device lists.
# Swift stays out of the main .venv on purpose (it pins eventlet, greenlet, ...).
# Safe to re-run: does nothing when the venv already imports swift at the pinned version.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${SWIFT_VENV:-$ROOT/.cache/venv-swift}"
SWIFT_VERSION="${SWIFT_VERSION:-2.38.3}"
PY="${PYTHON:-/usr/bin/python3}"

if [ -x "$VENV/bin/python" ] && \
   "$VENV/bin/python" -c "import swift, sys; sys.exit(swift.__version__ != '$SWIFT_VERSION')" 2>/dev/null; then
  exit 0
fi
mkdir -p "$(dirname "$VENV")"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
export PIP_CONSTRAINT="" PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/pip" install -q "swift==$SWIFT_VERSION"
"$VENV/bin/python" -c "import swift.common.ring; print('swift', __import__('swift').__version__, 'ready in $VENV')"
