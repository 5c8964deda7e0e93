#!/usr/bin/env bash
# Set up everything ministack needs on a Debian 12 machine (root, no systemd as PID 1):
# Debian packages, the controller's virtualenv, vendored collections, and the daemons.
# Re-running it is fast: each step is skipped when its stamp matches its inputs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMPS="$ROOT/.cache/stamps"
mkdir -p "$STAMPS"

log() { printf '[setup] %s\n' "$*"; }

# stamp NAME INPUT...: true when the step already ran with these inputs.
stamp_ok() { local name=$1; shift; [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$(cat "$@" | sha256sum)" ]; }
stamp_set() { local name=$1; shift; cat "$@" | sha256sum > "$STAMPS/$name"; }

# 1. Debian packages ---------------------------------------------------------------
if ! stamp_ok apt scripts/debian-packages.txt; then
  log "installing Debian packages (scripts/debian-packages.txt)"
  export DEBIAN_FRONTEND=noninteractive
  # No init system here: keep package scripts from starting daemons; scripts/daemons.sh starts them.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get update -q
  # shellcheck disable=SC2046
  apt-get install -y -q --no-install-recommends $(grep -v '^#' scripts/debian-packages.txt)
  rm -f /usr/sbin/policy-rc.d
  stamp_set apt scripts/debian-packages.txt
fi

# 2. The controller's virtualenv -----------------------------------------------------
VENV="$ROOT/.venv"
# requirements.txt: what the collection needs on a controller (ranges); requirements-dev.txt:
# that plus ansible-core and the test and lint tools; constraints.txt pins every version.
if ! stamp_ok venv requirements.txt requirements-dev.txt constraints.txt; then
  log "building the virtualenv in .venv (requirements-dev.txt + requirements.txt, constraints.txt)"
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  # The machine's pip.conf may carry a constraint file of its own; ours is the one that counts.
  export PIP_CONSTRAINT="" PIP_DISABLE_PIP_VERSION_CHECK=1
  "$VENV/bin/pip" install -q --upgrade pip wheel setuptools
  "$VENV/bin/pip" install -q -r requirements-dev.txt -c constraints.txt
  stamp_set venv requirements.txt requirements-dev.txt constraints.txt
fi

# 3. Collections the tests and molecule need (containers.podman, ansible.posix,
#    community.general). Galaxy is out of reach: they come from the `ansible` wheel on PyPI.
VENDOR="$ROOT/.cache/collections"
if ! stamp_ok collections scripts/vendored-collections.txt; then
  log "vendoring collections from the ansible wheel (scripts/vendored-collections.txt)"
  "$VENV/bin/python" scripts/vendor_collections.py scripts/vendored-collections.txt "$VENDOR"
  stamp_set collections scripts/vendored-collections.txt
fi

# 4. Daemons ------------------------------------------------------------------------
"$ROOT/scripts/daemons.sh" start
log "ready: ansible-core $("$VENV/bin/python" -c "from ansible.release import __version__; print(__version__)")"
