#!/usr/bin/env bash
# ansible-test sanity for the collection.
# - ansible-test insists that its working directory's physical path ends in
#   ansible_collections/<namespace>/<name>, and skips everything below a hidden directory, so
#   the collection's content that git knows of (tracked or new, not ignored) is mirrored into
#   such a tree in /tmp. The content is what galaxy ships: plugins, roles, playbooks, meta.
#   tests/, benchmarks/, lab/ and scripts/ are checked by ruff and pytest instead.
# - Its pip bootstrap comes from a host we cannot reach; scripts/ansible_test_get_pip.py stands in.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# one mirror per checkout, so that two checkouts can run sanity at once
TREE="${TMPDIR:-/tmp}/ministack-sanity-$(printf %s "$ROOT" | sha1sum | cut -c1-8)/ansible_collections/ministack/cloud"
mkdir -p "$TREE"
cd "$ROOT"
CONTENT=(galaxy.yml README.md meta plugins roles playbooks changelogs)
rm -rf "$TREE"; mkdir -p "$TREE"
# roles/*/molecule (scenarios and their testinfra tests) is test tooling, not shipped (galaxy.yml's
# build_ignore): ruff, ansible-lint and molecule check it.
git ls-files -co --exclude-standard -z -- "${CONTENT[@]}" ':(exclude)roles/*/molecule/*' \
  | rsync -a --delete --from0 --files-from=- ./ "$TREE/"
# the pip version ansible-test bootstraps (get_venv_packages' default)
PIP_VERSION=$(grep -oP "pip='\K[0-9.]+" "$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -1)
BOOT="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$(dirname "$BOOT")"
cmp -s "$ROOT/scripts/ansible_test_get_pip.py" "$BOOT" 2>/dev/null || cp "$ROOT/scripts/ansible_test_get_pip.py" "$BOOT"
cd "$TREE"
exec ansible-test sanity --venv --requirements --python 3.11 --color no "$@"
