# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's view of block hosts: volume service rows -> runners, backends, targets.

A volume service row (written by the block_host role through ``volume_service``) says how
to reach the host (``connection``), which backend it runs (``backend``, ``backend_config``)
and what it had free when last measured. Cinder's volume service name is ``host@backend``.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import select, update
except ImportError:
    pass

from . import backends, runner, targets

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def service_record(row, now=None, down_time=None):
    """A volume service as `openstack volume service list` shows it (plus capacity)."""
    from ..catalog.hosts import is_up
    from ..catalog.resource import iso

    record = {
        "binary": row.get("binary") or "cinder-volume",
        "host": row["host"],
        "zone": row.get("availability_zone") or "nova",
        "status": "enabled" if row.get("enabled", True) else "disabled",
        "state": "up",
        "updated_at": iso(row.get("last_seen") or row.get("updated_at")),
        "disabled_reason": row.get("disabled_reason"),
        "backend": row.get("backend"),
        "volume_backend_name": row.get("backend_name"),
        "target_helper": row.get("target_helper"),
        "target_ip": row.get("target_ip"),
        "total_capacity_gb": row.get("total_capacity_gb"),
        "free_capacity_gb": row.get("free_capacity_gb"),
        "provisioned_capacity_gb": row.get("provisioned_capacity_gb"),
        "thin_provisioning": bool(row.get("thin_provisioning")),
        "reserved_percentage": row.get("reserved_percentage") or 0,
        "max_over_subscription_ratio": row.get("max_over_subscription_ratio") or 20.0,
    }
    if now is not None:
        probe = {"last_seen": row.get("last_seen"), "forced_down": False}
        record["state"] = "up" if is_up(probe, now, down_time) else "down"
    return record


def host_runner(service):
    conn = dict(service.get("connection") or {})
    return runner.runner_for(conn)


def host_backend(service, run=None):
    config = dict(service.get("backend_config") or {})
    config["backend"] = service.get("backend") or config.get("backend") or "lvm"
    if service.get("volume_group"):
        config.setdefault("volume_group", service["volume_group"])
    return backends.backend_from_config(run or host_runner(service), config)


def host_target(service, run=None):
    config = dict(service.get("backend_config") or {})
    config["target_helper"] = service.get("target_helper") or "tgtadm"
    config["target_ip_address"] = service.get("target_ip") or "127.0.0.1"
    config["target_port"] = service.get("target_port") or targets.PORT
    return targets.target_from_config(run or host_runner(service), config)


def services(tx):
    t = tx.t.volume_services
    return tx.all(select(t).order_by(t.c.host))


def service_by_host(tx, host):
    t = tx.t.volume_services
    return tx.one_or_none(select(t).where(t.c.host == host))


def initiator_address(service, compute_service):
    """Where the compute host's QEMU connects from, as the target sees it."""
    portal = service.get("target_ip") or "127.0.0.1"
    if portal in LOOPBACK:
        return "127.0.0.1"
    compute_service = compute_service or {}
    if compute_service.get("host_ip"):
        return compute_service["host_ip"]
    # No host_ip recorded: the address the controller reaches the host's libvirtd at.
    from urllib.parse import urlsplit

    remote = urlsplit(compute_service.get("libvirt_uri") or "").hostname
    return remote or portal


def record_contact(tx, host):
    """The controller just reached the block host (a backup or restore ran there): a heartbeat."""
    t = tx.t.volume_services
    tx.execute(update(t).where(t.c.host == host).values(last_seen=tx.now()))


def record_capacity(tx, host, capacity):
    """Record a capacity measured outside the transaction (the host was reached now)."""
    t = tx.t.volume_services
    tx.execute(update(t).where(t.c.host == host).values(**capacity, last_seen=tx.now()))
