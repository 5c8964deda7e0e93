# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hosts as the scheduler sees them, availability zones, and resource claims.

Capacity rule (placement's, which Nova enforces on every claim):
    used + requested <= (total - reserved) * allocation_ratio
for vcpus (reserved_host_cpus), memory_mb (reserved_host_memory_mb) and disk in GB
(reserved_host_disk_mb rounded up to GB).

Host-state dicts use Nova's hypervisor field names; ``name`` is the service host (the name
aggregates list). ``*_used`` is what allocations hold (placement's usage, reserved amounts
NOT included: the scheduler subtracts them from the totals), ``free_ram_mb`` and
``free_disk_gb`` are what is physically left after reserved and used.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta

try:
    from sqlalchemy import and_, delete, func, insert, or_, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from .errors import ClaimFailed, Conflict, InvalidInput, NotFound

DEFAULT_AVAILABILITY_ZONE = "nova"  # Nova's default_availability_zone
INTERNAL_AVAILABILITY_ZONE = "internal"
AZ_KEY = "availability_zone"
ENV_SERVICE_DOWN_TIME = "MINISTACK_SERVICE_DOWN_TIME"
SERVICE_DOWN_TIME_S = 60  # Nova's service_down_time

# Task states that count as I/O-heavy operations (Nova's HostState.num_io_ops).
IO_TASK_STATES = (
    "resize_migrating",
    "rebuilding",
    "resize_prep",
    "image_snapshot",
    "image_backup",
    "unshelving",
    "shelving",
    "shelving_image_uploading",
)


def service_down_time(value: float | None = None) -> float:
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 2**31 - 1:
            raise InvalidInput("service_down_time", f"must be a number of seconds from 1 to {2**31 - 1}, "
                                                    f"got {value!r}")
        return float(value)
    return float(os.environ.get(ENV_SERVICE_DOWN_TIME, SERVICE_DOWN_TIME_S))


def is_up(service: dict, now: datetime, down_time: float | None = None) -> bool:
    """Up when the controller reached the host within service_down_time seconds."""
    if service.get("forced_down"):
        return False
    last_seen = service.get("last_seen")
    if last_seen is None:
        return False
    return (now - last_seen) <= timedelta(seconds=service_down_time(down_time))


def touch_service(tx, host: str, when: datetime | None = None) -> None:
    """Record that the controller just reached ``host`` (Nova's service heartbeat)."""
    t = tx.t.compute_services
    tx.execute(update(t).where(t.c.host == host).values(last_seen=when or tx.now()))


def reserved_disk_gb(service: dict) -> int:
    return math.ceil((service.get("reserved_host_disk_mb") or 0) / 1024)


# -- aggregates and zones -------------------------------------------------------------


def aggregates(tx) -> list[dict]:
    """Every aggregate as ``{id, uuid, name, availability_zone, metadata, hosts}``.

    ``metadata`` includes the ``availability_zone`` key when set, as Nova's does (the
    scheduler's aggregate filters see it too)."""
    t = tx.t
    rows = tx.all(select(t.aggregates).order_by(t.aggregates.c.id))
    by_id = {row["id"]: {**row, "metadata": {}, "hosts": []} for row in rows}
    for meta in tx.execute(select(t.aggregate_metadata)).mappings():
        by_id[meta["aggregate_id"]]["metadata"][meta["key"]] = meta["value"]
    for link in tx.execute(select(t.aggregate_hosts).order_by(t.aggregate_hosts.c.host)).mappings():
        by_id[link["aggregate_id"]]["hosts"].append(link["host"])
    result = []
    for agg in by_id.values():
        result.append(
            {
                "id": agg["id"],
                "uuid": agg["uuid"],
                "name": agg["name"],
                "availability_zone": agg["metadata"].get(AZ_KEY),
                "metadata": agg["metadata"],
                "hosts": agg["hosts"],
                "created_at": agg["created_at"],
                "updated_at": agg["updated_at"],
            }
        )
    return result


def host_zones(tx) -> dict[str, set[str]]:
    """host -> the availability zones its aggregates name (empty set: in the default zone)."""
    t = tx.t
    query = (
        select(t.aggregate_hosts.c.host, t.aggregate_metadata.c.value)
        .select_from(t.aggregate_hosts)
        .join(
            t.aggregate_metadata,
            and_(
                t.aggregate_metadata.c.aggregate_id == t.aggregate_hosts.c.aggregate_id,
                t.aggregate_metadata.c.key == AZ_KEY,
            ),
        )
    )
    zones: dict[str, set[str]] = {}
    for host, zone in tx.execute(query):
        zones.setdefault(host, set()).add(zone)
    return zones


def availability_zone_of(zones: dict[str, set[str]], host: str) -> str:
    found = sorted(zones.get(host, ()))
    return found[0] if found else DEFAULT_AVAILABILITY_ZONE


# -- host states for the scheduler ----------------------------------------------------


def _usage_by_host(tx) -> dict[str, dict]:
    a = tx.t.allocations
    query = select(
        a.c.host,
        func.coalesce(func.sum(a.c.vcpus), 0),
        func.coalesce(func.sum(a.c.memory_mb), 0),
        func.coalesce(func.sum(a.c.disk_gb), 0),
    ).group_by(a.c.host)
    return {host: {"vcpus": int(v), "memory_mb": int(m), "disk_gb": int(d)} for host, v, m, d in tx.execute(query)}


def host_states(tx, down_time: float | None = None, now: datetime | None = None) -> list[dict]:
    """Every compute host as a Nova-style host-state dict, sorted by name."""
    t = tx.t
    now = now or tx.now()
    usage = _usage_by_host(tx)
    zones = host_zones(tx)
    servers = tx.all(
        select(t.servers.c.id, t.servers.c.host, t.servers.c.vm_state, t.servers.c.task_state).where(
            t.servers.c.host.is_not(None), t.servers.c.vm_state != "deleted"
        )
    )
    instances: dict[str, list[str]] = {}
    io_ops: dict[str, int] = {}
    for server in servers:
        instances.setdefault(server["host"], []).append(server["id"])
        if server["vm_state"] == "building" or server["task_state"] in IO_TASK_STATES:
            io_ops[server["host"]] = io_ops.get(server["host"], 0) + 1
    states = []
    for svc in tx.all(select(t.compute_services).order_by(t.compute_services.c.host)):
        used = usage.get(svc["host"], {"vcpus": 0, "memory_mb": 0, "disk_gb": 0})
        on_host = sorted(instances.get(svc["host"], []))
        states.append(
            {
                "name": svc["host"],
                "host": svc["host"],
                "hypervisor_hostname": svc["hypervisor_hostname"],
                "service_id": svc["id"],
                "enabled": bool(svc["enabled"]),
                "disabled_reason": svc["disabled_reason"],
                "up": is_up(svc, now, down_time),
                "availability_zone": availability_zone_of(zones, svc["host"]),
                "vcpus": svc["vcpus"],
                "vcpus_used": used["vcpus"],
                "memory_mb": svc["memory_mb"],
                "memory_mb_used": used["memory_mb"],
                "free_ram_mb": svc["memory_mb"] - svc["reserved_host_memory_mb"] - used["memory_mb"],
                "local_gb": svc["local_gb"],
                "local_gb_used": used["disk_gb"],
                "free_disk_gb": svc["local_gb"] - reserved_disk_gb(svc) - used["disk_gb"],
                "running_vms": len(on_host),
                "cpu_allocation_ratio": svc["cpu_allocation_ratio"],
                "ram_allocation_ratio": svc["ram_allocation_ratio"],
                "disk_allocation_ratio": svc["disk_allocation_ratio"],
                "reserved_host_memory_mb": svc["reserved_host_memory_mb"],
                "reserved_host_disk_mb": svc["reserved_host_disk_mb"],
                "reserved_host_cpus": svc["reserved_host_cpus"],
                "hypervisor_type": svc["hypervisor_type"],
                "hypervisor_version": svc["hypervisor_version"],
                "host_ip": svc["host_ip"],
                "capabilities": svc["capabilities"] or {},
                "instances": on_host,
                "num_io_ops": io_ops.get(svc["host"], 0),
                "failed_builds": svc["failed_builds"],
                "last_seen": svc["last_seen"],
            }
        )
    return states


# -- claims ---------------------------------------------------------------------------


def _limits(service: dict) -> dict[str, float]:
    """What may be allocated on the host in total (placement's capacity rule)."""
    return {
        "vcpus": (service["vcpus"] - service["reserved_host_cpus"]) * service["cpu_allocation_ratio"],
        "memory_mb": (service["memory_mb"] - service["reserved_host_memory_mb"]) * service["ram_allocation_ratio"],
        "disk_gb": (service["local_gb"] - reserved_disk_gb(service)) * service["disk_allocation_ratio"],
    }


_UNITS = {"vcpus": ("vcpu", "VCPU"), "memory_mb": ("memory", "MB"), "disk_gb": ("disk", "GB")}


def claim(tx, host: str, server_id: str, vcpus: int, memory_mb: int, disk_gb: int) -> dict:
    """Claim resources on ``host`` for ``server_id`` inside ``tx`` (a write transaction).

    Re-checks capacity against every allocation committed so far, so two schedulers that
    chose the same host cannot both take its last room: the second one's claim raises
    ClaimFailed naming what ran out. Claiming again with the same amounts on the same
    host is a no-op (a retried task); a different claim for a server that holds one
    raises Conflict (release first: a move is release + claim).
    """
    if not tx.writable:
        raise Conflict("claim() needs a write transaction (catalog.begin()).")
    for field, value in (("vcpus", vcpus), ("memory_mb", memory_mb), ("disk_gb", disk_gb)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(field, f"must be a whole number >= 0, got {value!r}")
    t = tx.t
    service = tx.one_or_none(
        select(t.compute_services).where(t.compute_services.c.host == host).with_for_update()
    )
    if service is None:
        raise NotFound(f"Compute host {host} could not be found.")
    a = t.allocations
    existing = tx.one_or_none(select(a).where(a.c.server_id == server_id))
    wanted = {"vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk_gb}
    if existing is not None:
        if existing["host"] == host and all(existing[k] == v for k, v in wanted.items()):
            return existing
        raise Conflict(
            f"Server {server_id} already holds an allocation on host {existing['host']} "
            f"({existing['vcpus']} VCPU, {existing['memory_mb']} MB, {existing['disk_gb']} GB); release it first."
        )
    used = _usage_by_host_one(tx, host)
    limits = _limits(service)
    for key, requested in wanted.items():
        free = limits[key] - used[key]
        if requested > free:
            name, unit = _UNITS[key]
            raise ClaimFailed(host, f"Free {name} {max(free, 0):.2f} {unit} < requested {requested} {unit}")
    now = tx.now()
    row = {"server_id": server_id, "host": host, **wanted, "created_at": now, "updated_at": None}
    tx.execute(insert(a), row)
    return tx.one_or_none(select(a).where(a.c.server_id == server_id))


def _usage_by_host_one(tx, host: str) -> dict[str, int]:
    a = tx.t.allocations
    v, m, d = tx.execute(
        select(
            func.coalesce(func.sum(a.c.vcpus), 0),
            func.coalesce(func.sum(a.c.memory_mb), 0),
            func.coalesce(func.sum(a.c.disk_gb), 0),
        ).where(a.c.host == host)
    ).one()
    return {"vcpus": int(v), "memory_mb": int(m), "disk_gb": int(d)}


def release(tx, server_id: str) -> dict | None:
    """Give back what ``server_id`` holds; returns the released allocation, or None."""
    a = tx.t.allocations
    existing = tx.one_or_none(select(a).where(a.c.server_id == server_id))
    if existing is not None:
        tx.execute(delete(a).where(a.c.server_id == server_id))
    return existing


def allocations(tx, host: str | None = None) -> list[dict]:
    a = tx.t.allocations
    query = select(a).order_by(a.c.id)
    if host is not None:
        query = query.where(a.c.host == host)
    return tx.all(query)


def hosts_with_servers(tx, hosts: list[str]) -> dict[str, int]:
    """host -> number of servers (not deleted) on it, for the hosts given."""
    s = tx.t.servers
    query = (
        select(s.c.host, func.count())
        .where(s.c.host.in_(hosts), or_(s.c.vm_state.is_(None), s.c.vm_state != "deleted"))
        .group_by(s.c.host)
    )
    return {host: int(n) for host, n in tx.execute(query)}
