#!/usr/bin/env bash
# Remove everything ministack made on this machine (scripts/reset.py says what, and what it
# leaves). Lists only, unless given --yes. Refuses, removing nothing, when something outside
# ministack uses what it would remove. See docs/testing.md.
set -euo pipefail
exec /usr/bin/python3 "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/reset.py" "$@"
