#!/usr/bin/env bash
# ansible-test sanity for the collection. ansible-test insists that its working directory's
# physical path ends in ansible_collections/<namespace>/<name>; collections/ is a symlink, so
# the files git knows of (tracked or new, not ignored) are mirrored into such a tree first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TREE="$ROOT/.cache/sanity/ansible_collections/ministack/cloud"
mkdir -p "$TREE"
cd "$ROOT"
git ls-files -co --exclude-standard -z -- . ':!collections' \
  | rsync -a --delete --delete-excluded --from0 --files-from=- ./ "$TREE/"
cd "$TREE"
exec ansible-test sanity --venv --requirements --python 3.11 --color no "$@"
