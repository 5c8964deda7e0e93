# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one name-or-id lookup of the catalog, with the openstack client's contract
(osc-lib ``find_resource``):

- a row whose id is the value wins, even when other rows carry it as their name;
- else the one row with that name;
- more than one such row: ``More than one <kind> exists with the name '<value>'.`` (use the id);
- none: ``None``, or with ``required=True``:
  ``No <kind> with a name or ID of '<value>' exists.``

``where`` narrows both the id and the name match (live rows, the project's rows);
``names_where`` narrows only the name match (a server's id is found in any project, its name
only in the caller's); ``prefer`` picks among several rows with the name (an image name shared
by a public image and the project's own: the project's).
"""

from __future__ import annotations

try:
    from sqlalchemy import and_, select
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from .errors import Conflict, NotFound


def find(tx, table, value, kind: str, *, where=(), names_where=(), prefer=None, required: bool = False):
    """The row of ``table`` whose id, else whose unique name, is ``value`` (see the module docstring)."""
    if value is None or value == "":
        if required:
            raise NotFound(f"No {kind} with a name or ID of '{value}' exists.")
        return None
    value = str(value)
    conditions = list(where)
    rows = tx.all(select(table).where(table.c.id == value, *conditions))
    if rows:
        return rows[0]
    rows = tx.all(select(table).where(and_(table.c.name == value, *conditions, *names_where)))
    if len(rows) > 1 and prefer is not None:
        rows = [row for row in rows if prefer(row)] or rows
    if len(rows) > 1:
        raise Conflict(f"More than one {kind} exists with the name '{value}'.")
    if not rows and required:
        raise NotFound(f"No {kind} with a name or ID of '{value}' exists.")
    return rows[0] if rows else None
