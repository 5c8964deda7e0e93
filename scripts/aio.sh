#!/usr/bin/env bash
# The all-in-one walkthrough: set up this machine, then walk through the seed's
# openstack CLI session with ministack.cloud, printing tables as the seed prints them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
./scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
exec ansible-playbook playbooks/walkthrough.yml "$@"
