# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Projects: the owners of resources and the unit of quotas. One exists from the start."""

from __future__ import annotations

try:
    from sqlalchemy import select
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from . import lookup


def default_project(tx) -> dict:
    p = tx.t.projects
    return tx.one_or_none(select(p).where(p.c.is_default.is_(True)))


def find_project(tx, name_or_id: str | None) -> dict:
    """The project named (or with the id) ``name_or_id``; the default project for None."""
    if not name_or_id:
        return default_project(tx)
    return lookup.find(tx, tx.t.projects, name_or_id, "project", required=True)


def list_projects(tx) -> list[dict]:
    p = tx.t.projects
    return tx.all(select(p).order_by(p.c.name))
