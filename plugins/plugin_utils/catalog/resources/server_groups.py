# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Server groups: affinity, anti-affinity and their soft variants (Nova's policies).

Nova never changes a group once made; here an empty group may change its policy and rules
in place, and a group with members refuses (its members were placed under the old rules).
"""

from __future__ import annotations

import uuid

try:
    from sqlalchemy import delete, insert, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from ..errors import Conflict, InvalidInput
from ..projects import find_project
from ..quotas import check as check_quota
from ..resource import Resource, iso, require_int, require_name

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def group_record(tx, row: dict) -> dict:
    m = tx.t.server_group_members
    members = sorted(tx.scalars(select(m.c.server_id).where(m.c.group_id == row["id"])))
    return {
        "id": row["id"],
        "name": row["name"],
        "policy": row["policy"],
        "rules": row["rules"] or {},
        "member_ids": members,
        "project_id": row["project_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


class ServerGroup(Resource):
    result_key = "server_group"
    compared = ("policy", "rules")

    def _project(self, tx):
        return find_project(tx, self.params.get("project"))

    def find(self, tx):
        g = tx.t.server_groups
        row = tx.one_or_none(select(g).where(g.c.name == self.params["name"], g.c.project_id == self._project(tx)["id"]))
        return group_record(tx, row) if row else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        policy = p.get("policy")
        if policy is None:
            if current is None:
                raise InvalidInput("policy", f"required to create server group {name} (one of {', '.join(POLICIES)})")
            policy = current["policy"]
        rules = p.get("rules")
        if rules is None:
            rules = current["rules"] if current is not None and current["policy"] == policy else {}
        unknown = sorted(set(rules) - {"max_server_per_host"})
        if unknown:
            raise InvalidInput("rules", f"unknown rule {unknown[0]!r}; the only rule is max_server_per_host")
        if rules:
            if policy != "anti-affinity":
                raise InvalidInput("rules", f"only the anti-affinity policy takes rules, not {policy}")
            value = rules["max_server_per_host"]
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            rules = {"max_server_per_host": require_int("rules.max_server_per_host", value, minimum=1)}
        wanted = {"name": name, "policy": policy, "rules": rules}
        if current is None:
            check_quota(tx, self._project(tx)["id"], server_groups=1)
        elif current["member_ids"] and (policy != current["policy"] or rules != current["rules"]):
            raise Conflict(
                f"Server group {name} has {len(current['member_ids'])} member(s); its policy and rules cannot change "
                "while it has members. Create another group."
            )
        return wanted

    def create(self, tx, desired):
        tx.execute(
            insert(tx.t.server_groups),
            {
                "id": str(uuid.uuid4()),
                "name": desired["name"],
                "project_id": self._project(tx)["id"],
                "policy": desired["policy"],
                "rules": desired["rules"],
                "created_at": tx.now(),
            },
        )

    def update(self, tx, current, desired, changes):
        g = tx.t.server_groups
        tx.execute(
            update(g)
            .where(g.c.id == current["id"])
            .values(policy=desired["policy"], rules=desired["rules"], updated_at=tx.now())
        )

    def delete(self, tx, current):
        # As in Nova, members stay where they are; the group just stops existing.
        m = tx.t.server_group_members
        tx.execute(delete(m).where(m.c.group_id == current["id"]))
        tx.execute(delete(tx.t.server_groups).where(tx.t.server_groups.c.id == current["id"]))


class ServerGroupInfo(Resource):
    result_key = "server_groups"
    read_only = True

    def run(self, tx):
        g = tx.t.server_groups
        query = select(g).order_by(g.c.name)
        if not self.params.get("all_projects"):
            query = query.where(g.c.project_id == find_project(tx, self.params.get("project"))["id"])
        if self.params.get("name"):
            query = query.where(g.c.name == self.params["name"])
        return {"changed": False, "server_groups": [group_record(tx, r) for r in tx.all(query)]}
