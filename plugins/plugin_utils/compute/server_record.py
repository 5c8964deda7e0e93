# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server's record (what `openstack server show` prints) and the server listing."""

from __future__ import annotations

import hashlib
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


def _props_text(meta: dict) -> str:
    return ", ".join(f"{k}='{v}'" for k, v in sorted((meta or {}).items()))


def server_record(tx, row: dict) -> dict:
    """A server as ``openstack server show`` prints it (field names and value formats)."""
    ports = networks.server_ports(tx, row["id"])
    by_net: dict = {}
    for port in ports:
        if port["ip_address"]:
            by_net.setdefault(port["network_name"], []).append(port["ip_address"])
    addresses = "; ".join(f"{net}={', '.join(ips)}" for net, ips in by_net.items())
    flavor = row.get("flavor") or {}
    image_txt = ""
    if row.get("image_id"):
        img = tx.one_or_none(select(tx.t.images.c.name).where(tx.t.images.c.id == row["image_id"]))
        image_txt = f"{img['name'] if img else ''} ({row['image_id']})"
    att = tx.t.attachments
    volumes = tx.all(select(att.c.volume_id).where(att.c.server_id == row["id"], att.c.status == "attached"))
    status = row["status"]
    rec = {
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": row.get("availability_zone") or "",
        "OS-EXT-SRV-ATTR:host": row.get("host"),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": row.get("node"),
        "OS-EXT-SRV-ATTR:instance_name": drv.instance_name(row["instance_number"]) if row.get("instance_number")
        else "",
        "OS-EXT-STS:power_state": drv.POWER_STATE_NAMES.get(row["power_state"], "NOSTATE"),
        "OS-EXT-STS:task_state": row.get("task_state"),
        "OS-EXT-STS:vm_state": row["vm_state"],
        "OS-SRV-USG:launched_at": iso(row.get("launched_at")),
        "OS-SRV-USG:terminated_at": iso(row.get("terminated_at")),
        "accessIPv4": "",
        "accessIPv6": "",
        "addresses": addresses,
        "config_drive": "True" if row.get("config_drive") else "",
        "created": _created(row["created_at"]),
        "flavor": f"{flavor.get('name', '')} ({row.get('flavor_id')})",
        "hostId": host_id(row["project_id"], row.get("host")),
        "id": row["id"],
        "image": image_txt,
        "key_name": row.get("key_name"),
        "name": row["name"],
        "progress": 0,
        "project_id": row["project_id"],
        "properties": _props_text(row.get("metadata") or {}),
        "security_groups": "name='default'",
        "status": status,
        "updated": _created(row.get("updated_at") or row["created_at"]),
        "user_id": None,
        "volumes_attached": "\n".join(f"id='{v['volume_id']}'" for v in volumes),
        # Structured copies, handy in plays (the CLI fields above are text).
        "metadata": dict(row.get("metadata") or {}),
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
