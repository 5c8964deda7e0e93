# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-project quotas with Nova's and Cinder's defaults and over-quota messages.

A limit of -1 means unlimited. Only overrides are stored; ``limits()`` merges them over
the defaults. ``check()`` is what a create calls inside its write transaction, before
it writes anything.
"""

from __future__ import annotations

try:
    from sqlalchemy import func, select
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from .errors import OverQuota

COMPUTE_DEFAULTS = {  # nova/conf/quota.py
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "metadata_items": 128,
}
VOLUME_DEFAULTS = {  # cinder/quota.py
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
}
DEFAULTS = {**COMPUTE_DEFAULTS, **VOLUME_DEFAULTS}
COMPUTE_RESOURCES = tuple(COMPUTE_DEFAULTS)
VOLUME_RESOURCES = tuple(VOLUME_DEFAULTS)


def limits(tx, project_id: str) -> dict[str, int]:
    q = tx.t.quotas
    result = dict(DEFAULTS)
    for resource, hard_limit in tx.execute(
        select(q.c.resource, q.c.hard_limit).where(q.c.project_id == project_id)
    ):
        result[resource] = hard_limit
    return result


def overrides(tx, project_id: str) -> dict[str, int]:
    q = tx.t.quotas
    return dict(tx.execute(select(q.c.resource, q.c.hard_limit).where(q.c.project_id == project_id)).all())


def _count(tx, table, project_id, column=None, where=None):
    expression = func.count() if column is None else func.coalesce(func.sum(column), 0)
    query = select(expression).select_from(table).where(table.c.project_id == project_id)
    if where is not None:
        query = query.where(where)
    return int(tx.scalar(query))


def _largest_group(tx, project_id: str) -> int:
    # Nova limits members per group; usage here is the fullest group's member count.
    t = tx.t
    query = (
        select(func.count())
        .select_from(t.server_group_members.join(t.server_groups))
        .where(t.server_groups.c.project_id == project_id)
        .group_by(t.server_group_members.c.group_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    return int(tx.scalar(query) or 0)


def usage(tx, project_id: str) -> dict[str, int]:
    """What the project uses now, per quota resource (Nova and Cinder count the same)."""
    t = tx.t
    live_server = t.servers.c.vm_state != "deleted"
    live_volume = t.volumes.c.status.not_in(("deleted", "error_deleting"))
    live_snapshot = t.snapshots.c.status != "deleted"
    live_backup = t.backups.c.status != "deleted"
    return {
        "instances": _count(tx, t.servers, project_id, where=live_server),
        "cores": _count(tx, t.servers, project_id, t.servers.c.vcpus, live_server),
        "ram": _count(tx, t.servers, project_id, t.servers.c.memory_mb, live_server),
        "key_pairs": _count(tx, t.keypairs, project_id),
        "server_groups": _count(tx, t.server_groups, project_id),
        # Per group in Nova; here the largest group's member count.
        "server_group_members": _largest_group(tx, project_id),
        "metadata_items": 0,
        "volumes": _count(tx, t.volumes, project_id, where=live_volume),
        # Cinder counts snapshot sizes into gigabytes too.
        "gigabytes": _count(tx, t.volumes, project_id, t.volumes.c.size, live_volume)
        + _count(tx, t.snapshots, project_id, t.snapshots.c.size, live_snapshot),
        "snapshots": _count(tx, t.snapshots, project_id, where=live_snapshot),
        "backups": _count(tx, t.backups, project_id, where=live_backup),
        "backup_gigabytes": _count(tx, t.backups, project_id, t.backups.c.size, live_backup),
        "per_volume_gigabytes": 0,
    }


def over_quota_message(resource: str, requested: int, used: int, allowed: int) -> str:
    """The message Nova or Cinder gives when ``resource`` would go over its limit."""
    if resource in ("instances", "cores", "ram"):
        return (
            f"Quota exceeded for {resource}: Requested {requested}, but already used {used} "
            f"of {allowed} {resource}"
        )
    if resource == "key_pairs":
        return "Quota exceeded, too many key pairs."
    if resource == "server_groups":
        return "Quota exceeded, too many server groups."
    if resource == "server_group_members":
        return "Quota exceeded, too many servers in group"
    if resource == "volumes":
        return f"Maximum number of volumes allowed ({allowed}) exceeded for quota 'volumes'."
    if resource == "snapshots":
        return f"Maximum number of snapshots allowed ({allowed}) exceeded"
    if resource == "backups":
        return f"Maximum number of backups allowed ({allowed}) exceeded"
    if resource == "gigabytes":
        return (
            f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested {requested}G, "
            f"quota is {allowed}G and {used}G has been consumed."
        )
    if resource == "backup_gigabytes":
        return (
            f"Requested backup exceeds allowed Backup gigabytes quota. Requested {requested}G, "
            f"quota is {allowed}G and {used}G has been consumed."
        )
    if resource == "per_volume_gigabytes":
        return f"Volume size '{requested}' GB cannot be smaller or larger than the per volume limit of {allowed} GB."
    return f"Quota exceeded for {resource}: Requested {requested}, but already used {used} of {allowed} {resource}"


def group_members(tx, group_id: str) -> int:
    m = tx.t.server_group_members
    return int(tx.scalar(select(func.count()).select_from(m).where(m.c.group_id == group_id)))


def check(tx, project_id: str, group_id: str | None = None, **deltas: int) -> None:
    """Raise OverQuota (first resource that does not fit) if adding ``deltas`` to the
    project's usage would exceed a limit. Call inside the write transaction that then
    creates the resources, so the check and the write cannot be separated.

    ``server_group_members`` is limited per group, as in Nova: pass the ``group_id`` the
    servers join (without it the project's fullest group is counted, which is stricter)."""
    wanted = {r: d for r, d in deltas.items() if d and d > 0}
    if not wanted:
        return
    allowed = limits(tx, project_id)
    used = usage(tx, project_id)
    if group_id is not None:
        used["server_group_members"] = group_members(tx, group_id)
    # Nova reports instances/cores/ram together; check them in its order.
    for resource in sorted(wanted, key=lambda r: list(DEFAULTS).index(r) if r in DEFAULTS else 99):
        limit = allowed.get(resource, -1)
        if limit < 0:
            continue
        requested = wanted[resource]
        if resource == "per_volume_gigabytes":
            if requested > limit:
                raise OverQuota(over_quota_message(resource, requested, 0, limit))
            continue
        if used.get(resource, 0) + requested > limit:
            raise OverQuota(over_quota_message(resource, requested, used.get(resource, 0), limit))
