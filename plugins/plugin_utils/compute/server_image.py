# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.server_image`` (`openstack server image create`): a server's disk as a new image."""

from __future__ import annotations

import os
import time
import uuid
from typing import Optional

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import insert, select
except ImportError:
    pass

from ..catalog import Conflict
from .hosts import libvirt_host
from .lookups import require_server, service_row
from .server_record import set_server


def _existing(tx, name: str, row: dict) -> Optional[dict]:
    i = tx.t.images
    existing = tx.one_or_none(select(i).where(i.c.name == name, i.c.project_id == row["project_id"]))
    if existing is not None and (existing.get("properties") or {}).get("instance_uuid") != row["id"]:
        raise Conflict(f"An image named {name} already exists and is not a snapshot of server "
                       f"{row['name']}: choose another name.")
    return existing


def server_image(catalog, server: str, name: str, check_mode: bool = False, context: Optional[dict] = None,
                 timeout: float = 600) -> dict:
    """``openstack server image create``: the server's disk, flattened, as a new private image."""
    from .imagefile import FileStore, digests, qemu_img_info
    from .images import image_record as _record
    from .images import store_dir

    with catalog.read() as tx:
        row = require_server(tx, server)
        i = tx.t.images
        existing = _existing(tx, name, row)
        if existing is not None:
            return {"changed": False, "image": _record(existing)}
        service = service_row(tx, row["host"]) if row.get("host") else None
        base = tx.one_or_none(select(i).where(i.c.id == row["image_id"]))
        store = FileStore(store_dir(tx, context or {}))
        project = tx.one_or_none(select(tx.t.projects).where(tx.t.projects.c.id == row["project_id"]))
    if service is None or row["vm_state"] not in ("active", "stopped", "paused", "suspended"):
        raise Conflict(f"Cannot 'createImage' instance {row['id']} while it is in vm_state {row['vm_state']}")
    image_id = str(uuid.uuid4())
    properties = {
        "base_image_ref": row["image_id"] or "", "image_type": "snapshot", "instance_uuid": row["id"],
        "owner_project_name": project["name"] if project else "", "boot_roles": "admin",
        "hw_cdrom_bus": "ide", "hw_disk_bus": "virtio", "hw_machine_type": "pc", "hw_vif_model": "virtio",
    }
    if check_mode:
        preview = {"id": image_id, "name": name, "project_id": row["project_id"], "status": "queued",
                   "visibility": "private", "protected": False, "disk_format": "qcow2", "container_format": "bare",
                   "size": None, "virtual_size": None, "checksum": None, "os_hash_algo": None, "os_hash_value": None,
                   "min_disk": row["root_gb"], "min_ram": (base or {}).get("min_ram") or 0, "location": None,
                   "properties": properties, "tags": [], "created_at": None, "updated_at": None}
        return {"changed": True, "image": _record(preview)}
    host = libvirt_host(service)
    # Under the write lock: the name is looked up again and the server marked, so of two runs
    # making one snapshot at the same moment, the second waits for the first and reports its image.
    deadline = time.monotonic() + timeout
    while True:
        with catalog.begin() as tx:
            existing = _existing(tx, name, row)
            busy = require_server(tx, row["id"]).get("task_state") == "image_snapshot"
            if existing is None and not busy:
                set_server(tx, row["id"], task_state="image_snapshot")
        if existing is not None:
            return {"changed": False, "image": _record(existing)}
        if not busy:
            break
        if time.monotonic() > deadline:
            raise Conflict(f"Cannot 'createImage' instance {row['id']} while it is in task_state image_snapshot "
                           f"(another run has been snapshotting it for over {timeout:g} s).")
        time.sleep(0.5)
    os.makedirs(store.root, exist_ok=True)
    tmp = os.path.join(store.root, f".{image_id}.partial")
    try:
        host.snapshot_disk(row["id"], f"{row['id']}.disk",
                           f"{row['id']}.snap-{image_id[:8]}", tmp, timeout=timeout)
        sums = digests(tmp)
        virtual = int(qemu_img_info(tmp).get("virtual-size", 0))
        path = store.adopt(image_id, tmp)
        with catalog.begin() as tx:
            now = tx.now()
            tx.execute(insert(tx.t.images), {
                "id": image_id, "name": name, "project_id": row["project_id"], "status": "active",
                "visibility": "private", "protected": False, "disk_format": "qcow2", "container_format": "bare",
                "size": sums["size"], "virtual_size": virtual, "checksum": sums["checksum"],
                "os_hash_algo": sums["os_hash_algo"], "os_hash_value": sums["os_hash_value"],
                "min_disk": row["root_gb"], "min_ram": (base or {}).get("min_ram") or 0,
                "location": "file://" + path, "properties": properties, "tags": [], "created_at": now,
                "updated_at": now})
            set_server(tx, row["id"], task_state=None)
            created = tx.one_or_none(select(tx.t.images).where(tx.t.images.c.id == image_id))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        with catalog.begin() as tx:
            set_server(tx, row["id"], task_state=None)
        raise
    return {"changed": True, "image": _record(created)}
