# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render results as the openstack CLI prints them (cliff's table formatter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def _cell(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Mapping):
        # openstack prints properties as key='value', sorted by key
        return ", ".join(f"{k}='{_cell(v)}'" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _render(headers: list[str], rows: list[list], right: list[bool]) -> str:
    # As cliff does: a column whose values are all numbers is right-aligned, header included.
    right = [
        allowed and any(_numeric(row[i]) for row in rows) and all(_numeric(row[i]) or row[i] is None for row in rows)
        for i, allowed in enumerate(right)
    ]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], max((len(line) for line in text.splitlines()), default=0))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values, align_right):
        # A cell with newlines spans several text lines, the other cells blank below their
        # first line, as cliff (prettytable) prints volumes_attached and the like.
        split = [text.splitlines() or [""] for text in values]
        height = max(len(lines) for lines in split)
        printed = []
        for n in range(height):
            parts = []
            for lines, width, is_right in zip(split, widths, align_right):
                text = lines[n] if n < len(lines) else ""
                parts.append(" " + (text.rjust(width) if is_right else text.ljust(width)) + " ")
            printed.append("|" + "|".join(parts) + "|")
        return "\n".join(printed)

    out = [rule, line(headers, right), rule]
    for row in cells:
        out.append(line(row, right))
    out.append(rule)
    return "\n".join(out)


def cli_table(rows, columns):
    """A list of dicts as `openstack <thing> list` prints it."""
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise AnsibleFilterError("cli_table: the input must be a list of dicts, e.g. the 'flavors' of flavor_info")
    pairs = []
    for col in columns:
        if isinstance(col, str):
            pairs.append((col, col))
        elif isinstance(col, Sequence) and len(col) == 2:
            pairs.append((str(col[0]), str(col[1])))
        else:
            raise AnsibleFilterError(f"cli_table: column {col!r} must be a key or a [header, key] pair")
    headers = [header for header, _key in pairs]
    body = [[(row or {}).get(key) for _header, key in pairs] for row in rows]
    return _render(headers, body, [True] * len(pairs))


def cli_show(item, fields=None):
    """One resource as `openstack <thing> show` prints it: a Field/Value table sorted by field."""
    if not isinstance(item, Mapping):
        raise AnsibleFilterError("cli_show: the input must be a dict, e.g. the 'server' a server task returns")
    keys = list(fields) if fields else sorted(item)
    # cliff left-aligns every value in a show table
    return _render(["Field", "Value"], [[k, item.get(k)] for k in keys], [False, False])


class FilterModule:
    def filters(self):
        return {"cli_table": cli_table, "cli_show": cli_show}
