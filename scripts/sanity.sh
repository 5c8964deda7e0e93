#!/usr/bin/env bash
# ansible-test sanity for the collection.
# - ansible-test insists that its working directory's physical path ends in
#   ansible_collections/<namespace>/<name>, and skips everything below a hidden directory, so
#   the files git knows of (tracked or new, not ignored) are mirrored into such a tree in /tmp.
# - Its pip bootstrap comes from a host we cannot reach; scripts/ansible_test_get_pip.py stands in.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TREE="${TMPDIR:-/tmp}/ministack-sanity/ansible_collections/ministack/cloud"
mkdir -p "$TREE"
cd "$ROOT"
git ls-files -co --exclude-standard -z -- . ':!collections' \
  | rsync -a --delete --from0 --files-from=- ./ "$TREE/"
# files deleted from the working tree must not linger in the mirror
(cd "$TREE" && find . -type f ! -path './tests/output/*' -printf '%P\n') | while read -r f; do
  [ -e "$ROOT/$f" ] || rm -f "$TREE/$f"
done
# the pip version ansible-test bootstraps (get_venv_packages' default)
PIP_VERSION=$(grep -oP "pip='\K[0-9.]+" "$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -1)
BOOT="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
mkdir -p "$(dirname "$BOOT")"
cmp -s "$ROOT/scripts/ansible_test_get_pip.py" "$BOOT" 2>/dev/null || cp "$ROOT/scripts/ansible_test_get_pip.py" "$BOOT"
cd "$TREE"
exec ansible-test sanity --venv --requirements --python 3.11 --color no "$@"
