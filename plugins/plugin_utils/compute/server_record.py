# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server's record (plain data; `openstack server show` is the cli_show filter's job) and the listing."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Optional

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import select, update
except ImportError:
    pass

from ..catalog.resource import iso
from . import driver as drv
from . import networks
from .lookups import find_server_row, live

STATUS_OF = {"active": "ACTIVE", "building": "BUILD", "stopped": "SHUTOFF", "paused": "PAUSED",
             "suspended": "SUSPENDED", "error": "ERROR", "deleted": "DELETED"}


def host_id(project_id: str, host: Optional[str]) -> str:
    """Nova's hostId: an opaque per-project id of the host (sha224 of project id + host)."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def _created(value: Optional[datetime]) -> Optional[str]:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def server_record(tx, row: dict) -> dict:
    """A server as plain data (docs/architecture.md, "What a module returns"): Nova's fields with
    plain keys and values; the ``cli_show`` filter (resource='server') prints them as
    ``openstack server show`` does."""
    ports = networks.server_ports(tx, row["id"])
    by_net: dict = {}
    addresses = []
    for port in ports:
        if port["ip_address"]:
            by_net.setdefault(port["network_name"], []).append(port["ip_address"])
            addresses.append({"network": port["network_name"], "address": port["ip_address"],
                              "version": ipaddress.ip_address(port["ip_address"]).version,
                              "mac": port["mac_address"]})
    booted = row.get("flavor") or {}
    flavor = {"id": row.get("flavor_id"), "name": booted.get("name")}
    flavor.update({k: booted[k] for k in ("vcpus", "ram", "disk", "ephemeral", "swap", "extra_specs") if k in booted})
    image = None
    if row.get("image_id"):
        img = tx.one_or_none(select(tx.t.images.c.name).where(tx.t.images.c.id == row["image_id"]))
        image = {"id": row["image_id"], "name": img["name"] if img else None}
    att = tx.t.attachments
    volumes = tx.all(select(att.c.volume_id).where(att.c.server_id == row["id"], att.c.status == "attached")
                     .order_by(att.c.created_at, att.c.volume_id))
    rec = {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "vm_state": row["vm_state"],
        "task_state": row.get("task_state"),
        "power_state": drv.POWER_STATE_NAMES.get(row["power_state"], "NOSTATE"),
        "project_id": row["project_id"],
        "user_id": None,
        "host": row.get("host"),
        "hypervisor_hostname": row.get("node"),
        "instance_name": drv.instance_name(row["instance_number"]) if row.get("instance_number") else None,
        "availability_zone": row.get("availability_zone") or None,
        "host_id": host_id(row["project_id"], row.get("host")),
        "addresses": addresses,
        "flavor": flavor,
        "image": image,
        "key_name": row.get("key_name"),
        "metadata": dict(row.get("metadata") or {}),
        "config_drive": bool(row.get("config_drive")),
        "volumes_attached": [{"id": v["volume_id"]} for v in volumes],
        "security_groups": [{"name": "default"}],
        "disk_config": "MANUAL",
        "access_ipv4": "",
        "access_ipv6": "",
        "progress": 0,
        "created": _created(row["created_at"]),
        "updated": _created(row.get("updated_at") or row["created_at"]),
        "launched_at": iso(row.get("launched_at")),
        "terminated_at": iso(row.get("terminated_at")),
        # Handy in plays: the addresses by network, and the ports (Neutron's) with their ids.
        "networks": by_net,
        "ports": [{"id": p["id"], "network": p["network_name"], "network_id": p["network_id"],
                   "mac_address": p["mac_address"], "ip_address": p["ip_address"]} for p in ports],
    }
    if row.get("fault"):
        rec["fault"] = row["fault"]
    return rec


def set_server(tx, server_id: str, **values) -> None:
    s = tx.t.servers
    values.setdefault("updated_at", tx.now())
    tx.execute(update(s).where(s.c.id == server_id).values(**values))


def list_servers(catalog, server: Optional[str] = None) -> list:
    with catalog.read() as tx:
        if server:
            row = find_server_row(tx, server)
            return [server_record(tx, row)] if row else []
        s = tx.t.servers
        return [server_record(tx, r) for r in tx.all(select(s).where(live(s)).order_by(s.c.name, s.c.id))]
