# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the block modules return, as plain data: a volume, a snapshot, an attachment."""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import select
except ImportError:
    pass

from ..catalog.resource import iso

DEFAULT_TYPE = "__DEFAULT__"


def attachments_of(tx, volume_id):
    t = tx.t.attachments
    return tx.all(select(t).where(t.c.volume_id == volume_id).order_by(t.c.created_at))


def attachment_record(row, server_name=None):
    """One attachment of a volume: Cinder's fields, plus the server's name."""
    return {
        "id": row["volume_id"],
        "attachment_id": row["id"],
        "volume_id": row["volume_id"],
        "server_id": row["server_id"],
        "server_name": server_name,
        "host_name": row.get("host"),
        "device": row.get("device"),
        "attached_at": iso(row.get("created_at")),
    }


def _server_name(tx, server_id):
    servers = tx.t.servers
    return tx.scalar(select(servers.c.name).where(servers.c.id == server_id))


def volume_record(tx, row):
    """A volume as plain data: Cinder's fields (plus the admin's host field), booleans as
    booleans; the cli_show/cli_table filters (resource='volume') print `openstack volume show`
    and `volume list`."""
    return {
        "attachments": [attachment_record(a, _server_name(tx, a["server_id"])) for a in attachments_of(tx, row["id"])],
        "availability_zone": row["availability_zone"],
        "bootable": bool(row["bootable"]),
        "consistencygroup_id": None,
        "created_at": iso(row["created_at"]),
        "description": row.get("description"),
        "encrypted": False,
        "id": row["id"],
        "migration_status": None,
        "multiattach": bool(row.get("multiattach")),
        "name": row.get("name"),
        "properties": dict(row.get("metadata") or {}),
        "replication_status": None,
        "size": row["size"],
        "snapshot_id": row.get("snapshot_id"),
        "source_volid": row.get("source_volid"),
        "image_id": row.get("image_id"),
        "status": row["status"],
        "status_reason": row.get("status_reason"),
        "type": row.get("volume_type") or DEFAULT_TYPE,
        "updated_at": iso(row.get("updated_at")),
        "user_id": None,
        "project_id": row["project_id"],
        "host": row.get("host"),
    }


def snapshot_record(row):
    return {
        "created_at": iso(row["created_at"]),
        "description": row.get("description"),
        "id": row["id"],
        "name": row.get("name"),
        "properties": dict(row.get("metadata") or {}),
        "size": row["size"],
        "status": row["status"],
        "status_reason": row.get("status_reason"),
        "updated_at": iso(row.get("updated_at")),
        "volume_id": row["volume_id"],
    }
