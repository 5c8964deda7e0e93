# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Quota limits per project (Nova's and Cinder's resources and defaults)."""

from __future__ import annotations

try:
    from sqlalchemy import delete, insert, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from ..errors import Conflict
from ..projects import find_project
from ..quotas import DEFAULTS, limits, overrides, usage
from ..resource import Resource, require_int

RESOURCES = tuple(DEFAULTS)


def quota_record(tx, project: dict) -> dict:
    return {"project": project["name"], "project_id": project["id"], **limits(tx, project["id"])}


class Quota(Resource):
    result_key = "quotas"
    compared = RESOURCES

    def _project(self, tx):
        return find_project(tx, self.params.get("name"))

    def find(self, tx):
        # Limits always exist (defaults); the record is never None.
        return quota_record(tx, self._project(tx))

    def desired(self, tx, current):
        wanted = dict(current)
        in_use = None
        for resource in RESOURCES:
            value = require_int(resource, self.params.get(resource), minimum=-1)
            if value is None:
                continue
            if value != current[resource] and value >= 0 and resource != "per_volume_gigabytes":
                in_use = in_use if in_use is not None else usage(tx, current["project_id"])
                if in_use.get(resource, 0) > value:
                    raise Conflict(
                        f"{resource}: Quota limit {value} for {resource} must be greater than or equal to already "
                        f"used and reserved {in_use[resource]}."
                    )
            wanted[resource] = value
        return wanted

    def run(self, tx):
        current = self.find(tx)
        if (self.params.get("state") or "present") == "absent":
            # Back to the defaults: changed only if some limit was overridden.
            project_id = current["project_id"]
            stored = overrides(tx, project_id)
            differs = {r: v for r, v in stored.items() if DEFAULTS.get(r) != v}
            if stored:
                tx.execute(delete(tx.t.quotas).where(tx.t.quotas.c.project_id == project_id))
            return self.outcome(bool(differs), current, self.find(tx))
        desired = self.desired(tx, current)
        changes = self.changes(current, desired)
        if changes:
            self.update(tx, current, desired, changes)
        return self.outcome(bool(changes), current, self.find(tx))

    def update(self, tx, current, desired, changes):
        q = tx.t.quotas
        project_id = current["project_id"]
        stored = overrides(tx, project_id)
        now = tx.now()
        for resource, value in changes.items():
            if resource in stored:
                tx.execute(
                    update(q)
                    .where(q.c.project_id == project_id, q.c.resource == resource)
                    .values(hard_limit=value, updated_at=now)
                )
            else:
                tx.execute(
                    insert(q), {"project_id": project_id, "resource": resource, "hard_limit": value, "created_at": now}
                )


class QuotaInfo(Resource):
    result_key = "quotas"
    read_only = True

    def run(self, tx):
        project = find_project(tx, self.params.get("name"))
        used = usage(tx, project["id"])
        return {
            "changed": False,
            "quotas": quota_record(tx, project),
            "usage": {r: used.get(r, 0) for r in RESOURCES},
        }
