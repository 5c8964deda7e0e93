#!/usr/bin/env bash
# ansible-test sanity for the collection's plugins. ansible-test insists on running from
# .../ansible_collections/<namespace>/<name>, which collections/ provides as a link.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/collections/ansible_collections/ministack/cloud"
# Sanity tests see only files git tracks; untracked work is not checked.
exec ansible-test sanity --venv --requirements --python 3.11 --color no \
  --skip-test shebang "$@"
