# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A unified diff of two texts with secrets masked, for configuration files that hold secrets.

A task that writes such a file is ``no_log``, and ansible-core then hides its whole diff. The
roles show what changed instead through this diff: every occurrence of a secret, in the old text
as in the new, reads ``********``, so a changed secret shows as a changed line without its value."""

from __future__ import annotations

import difflib

MASK = "********"


def mask(text: str, secrets) -> str:
    # Longest first, so that a secret containing another is masked whole.
    for secret in sorted({str(s) for s in secrets or () if s not in (None, "")}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def masked_diff(before: str, after: str, secrets=(), name: str = "file", context: int = 3) -> str:
    """``diff -u`` of ``before`` (empty for a new file) and ``after``, secrets masked; "" when equal.

    When only secret values differ, the masked texts are equal: the diff then says so in one line."""
    old = mask(before or "", secrets).splitlines(keepends=True)
    new = mask(after or "", secrets).splitlines(keepends=True)
    header = f"--- {name} (before)\n+++ {name} (after)\n"
    if old == new:
        return "" if (before or "") == (after or "") else header + "# only secret values changed (not shown)\n"
    lines = difflib.unified_diff(old, new, fromfile=f"{name} (before)", tofile=f"{name} (after)", n=context)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
