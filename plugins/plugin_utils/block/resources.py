# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog resources of the block modules: volume, volume_snapshot, server_volume,
volume_service and their _info companions (catalog.resource.Resource subclasses).

Host work (lvcreate, tgt-admin, libvirt hot-plug) runs inside the module's write
transaction, each step registering its undo with ``on_rollback``: if a later step or the
commit fails, the LV, the target and the libvirt secret are removed again, so a failed task
leaves nothing half-made. In check mode nothing runs on any host.
"""

from __future__ import annotations

import math
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from ..catalog.errors import CatalogError, Conflict, InvalidInput, NotFound, NoValidHost
from ..catalog.hosts import service_down_time
from ..catalog.projects import find_project
from ..catalog.quotas import check as check_quota
from ..catalog.resource import Resource, iso, require_int, require_name, string_dict
from . import attach as attach_mod
from . import attachments, runner, scheduler, secrets, service, targets
from .backends import SNAPSHOT_NAME, VOLUME_NAME, GiB
from .errors import BlockError, NoValidBackend

DEFAULT_TYPE = "__DEFAULT__"
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")


def _fail(err):
    """Block errors become catalog errors: the action base reports their text as-is."""
    if isinstance(err, NoValidBackend):
        return NoValidHost(str(err).replace("No valid backend was found. ", ""))
    return CatalogError(str(err))


def _by_name_or_id(tx, table, value, project_id, kind, live=None):
    query = select(table).where((table.c.id == value) | (table.c.name == value))
    if project_id is not None and "project_id" in table.c:
        query = query.where(table.c.project_id == project_id)
    if live is not None:
        query = query.where(live)
    rows = tx.all(query)
    exact = [r for r in rows if r["id"] == value]
    if exact:
        return exact[0]
    if len(rows) > 1:
        raise Conflict(f"More than one {kind} exists with the name '{value}'.")
    return rows[0] if rows else None


def _attachments(tx, volume_id):
    t = tx.t.attachments
    return tx.all(select(t).where(t.c.volume_id == volume_id).order_by(t.c.created_at))


def attachment_record(row):
    return {
        "id": row["volume_id"],
        "attachment_id": row["id"],
        "volume_id": row["volume_id"],
        "server_id": row["server_id"],
        "host_name": row.get("host"),
        "device": row.get("device"),
        "attached_at": iso(row.get("created_at")),
    }


def volume_record(tx, row):
    """A volume as `openstack volume show` prints it (plus the admin's host field)."""
    return {
        "attachments": [attachment_record(a) for a in _attachments(tx, row["id"])],
        "availability_zone": row["availability_zone"],
        "bootable": "true" if row["bootable"] else "false",
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
        "type": row.get("volume_type") or DEFAULT_TYPE,
        "updated_at": iso(row.get("updated_at")),
        "user_id": None,
        "project_id": row["project_id"],
        "host": row.get("host"),
    }


def volume_list_row(tx, row):
    """`openstack volume list`: ID, Name, Status, Size, Attached to."""
    servers = tx.t.servers
    attached = []
    for a in _attachments(tx, row["id"]):
        name = tx.scalar(select(servers.c.name).where(servers.c.id == a["server_id"])) or a["server_id"]
        attached.append(f"Attached to {name} on {a.get('device')} ")
    return {"ID": row["id"], "Name": row.get("name"), "Status": row["status"], "Size": row["size"],
            "Attached to": "".join(attached).strip()}


def snapshot_record(row):
    return {
        "created_at": iso(row["created_at"]),
        "description": row.get("description"),
        "id": row["id"],
        "name": row.get("name"),
        "properties": dict(row.get("metadata") or {}),
        "size": row["size"],
        "status": row["status"],
        "updated_at": iso(row.get("updated_at")),
        "volume_id": row["volume_id"],
    }


def _service_for(tx, host):
    row = service.service_by_host(tx, host)
    if row is None:
        raise CatalogError(f"Volume service {host} is not registered any more: run the block_host role on it.")
    return row


class _BlockResource(Resource):
    def project(self, tx):
        return find_project(tx, self.params.get("project"))

    def secret_key(self):
        return self.context.get("secret_key")


class Volume(_BlockResource):
    result_key = "volume"
    compared = ("size", "description", "bootable", "properties")

    def find(self, tx):
        project = self.project(tx)
        t = tx.t.volumes
        row = _by_name_or_id(tx, t, self.params["name"], project["id"], "volume",
                             live=t.c.status != "deleted")
        self._row = row
        return volume_record(tx, row) if row else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        size = require_int("size", p.get("size"), minimum=1, unit="GiB")
        if p.get("image") and p.get("snapshot"):
            raise InvalidInput("image", "give either image or snapshot, not both")
        metadata = string_dict("metadata", p.get("metadata"))
        wanted = {
            "name": name,
            "size": size,
            "description": p.get("description"),
            "bootable": None if p.get("bootable") is None else ("true" if p["bootable"] else "false"),
            "properties": metadata,
        }
        if current is None:
            return wanted
        for field, shown in (("volume_type", "type"), ("availability_zone", "availability_zone")):
            if p.get(field) is not None and p[field] != current[shown]:
                raise InvalidInput(field, f"cannot change on an existing volume (it is {current[shown]!r}): "
                                          "omit it, or delete the volume and create it again")
        for field in ("image", "snapshot"):
            if p.get(field) is not None:
                self.warnings.append(f"{field} is only used when the volume is created; it exists already.")
        if size is not None and size < current["size"]:
            raise InvalidInput("size", f"New size for extend must be greater than current size. "
                                       f"(current: {current['size']}, extended: {size}). Volumes cannot shrink.")
        return wanted

    # -- create ------------------------------------------------------------------------
    def _source_snapshot(self, tx, project_id):
        t = tx.t.snapshots
        snap = _by_name_or_id(tx, t, self.params["snapshot"], project_id, "snapshot", live=t.c.status != "deleted")
        if snap is None:
            raise NotFound(f"No snapshot with a name or ID of '{self.params['snapshot']}' exists.")
        if snap["status"] != "available":
            raise InvalidInput("snapshot", f"Originating snapshot status must be one of 'available' values, "
                                           f"it is {snap['status']!r}")
        return snap

    def _source_image(self, tx, project_id):
        t = tx.t.images
        image = _by_name_or_id(tx, t, self.params["image"], None, "image")
        if image is None:
            raise NotFound(f"No image with a name or ID of '{self.params['image']}' exists.")
        if image["status"] != "active":
            raise InvalidInput("image", f"Image {image['id']} is not active (status {image['status']}).")
        location = image.get("location") or ""
        if not location.startswith("file://"):
            raise InvalidInput("image", f"image {image['name']} is stored at {location or 'nowhere'}; creating a "
                                        "volume from it needs a file:// location on the controller")
        return image

    def create(self, tx, desired):
        p = self.params
        project = self.project(tx)
        size = desired["size"]
        snap = self._source_snapshot(tx, project["id"]) if p.get("snapshot") else None
        image = self._source_image(tx, project["id"]) if p.get("image") else None
        if snap is not None:
            size = size or snap["size"]
            if size < snap["size"]:
                raise InvalidInput("size", f"Volume size '{size}' GB cannot be smaller than the snapshot size "
                                           f"{snap['size']}GB. They must be >= original snapshot size.")
        if image is not None:
            image_gb = math.ceil(max(image.get("virtual_size") or 0, image.get("size") or 0) / GiB)
            image_gb = max(image_gb, image.get("min_disk") or 0)
            size = size or image_gb
            if size < image_gb:
                raise InvalidInput("size", f"Size of specified image {image_gb} GB is larger than volume size "
                                           f"{size} GB.")
        if not size:
            raise InvalidInput("size", "is required to create a volume (GiB), unless snapshot or image gives it")
        check_quota(tx, project["id"], volumes=1, gigabytes=size, per_volume_gigabytes=size)
        volume_type = p.get("volume_type")
        all_services = service.services(tx)
        if volume_type and volume_type != DEFAULT_TYPE and not any(
                s.get("backend_name") == volume_type for s in all_services):
            raise NotFound(f"Volume type with name {volume_type} could not be found.")
        if snap is not None:
            source_volume = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == snap["volume_id"]))
            chosen = _service_for(tx, source_volume["host"])  # Cinder makes it where the snapshot is
            zone = source_volume["availability_zone"]
        else:
            now = tx.now()
            candidates = []
            for row in all_services:
                if row.get("enabled", True):
                    row = service.refresh_capacity(tx, row)
                candidates.append(service.service_record(row, now=now, down_time=service_down_time()))
            try:
                picked = scheduler.schedule(candidates, size, availability_zone=p.get("availability_zone"),
                                            backend_name=None if volume_type in (None, DEFAULT_TYPE) else volume_type)
            except NoValidBackend as err:
                raise _fail(err) from None
            chosen = next(s for s in all_services if s["host"] == picked["host"])
            zone = picked["zone"]
        volume_id = str(uuid.uuid4())
        now = tx.now()
        tx.execute(insert(tx.t.volumes), {
            "id": volume_id, "name": desired["name"], "project_id": project["id"], "size": size,
            "status": "available", "attach_status": "detached", "availability_zone": zone,
            "host": chosen["host"], "volume_type": volume_type,
            "bootable": (p.get("bootable") if p.get("bootable") is not None else image is not None),
            "description": desired.get("description"), "metadata": desired.get("properties") or {},
            "snapshot_id": snap["id"] if snap else None, "image_id": image["id"] if image else None,
            "created_at": now,
        })
        if self.check_mode:
            return
        backend = service.host_backend(chosen)
        name = VOLUME_NAME.format(volume_id)
        try:
            if snap is not None:
                backend.create_from_snapshot(SNAPSHOT_NAME.format(snap["id"]), name, size)
            else:
                backend.create(name, size)
            self.on_rollback(lambda: backend.delete(name))
            if image is not None:
                # the image file is the controller's: a remote block host gets a staged copy
                with backend.image_on_host(image["location"][len("file://"):]) as image_path:
                    backend.copy_image(image_path, image.get("disk_format") or "raw", name)
        except BlockError as err:
            if backend.exists(name):
                backend.delete(name)
            raise _fail(err) from None

    # -- update ------------------------------------------------------------------------
    def update(self, tx, current, desired, changes):
        row = self._row
        values = {"updated_at": tx.now()}
        if "size" in changes:
            if row["status"] != "available":
                raise InvalidInput("size", f"Volume {row['id']} status must be available to extend, but current "
                                           f"status is: {row['status']}. Detach it first.")
            delta = changes["size"] - row["size"]
            check_quota(tx, row["project_id"], gigabytes=delta, per_volume_gigabytes=changes["size"])
            svc = _service_for(tx, row["host"])
            if not self.check_mode:
                backend = service.host_backend(svc)
                capacity = backend.capacity()
                if not capacity["thin_provisioning"] and delta > capacity["free_capacity_gb"]:
                    raise InvalidInput("size", f"Insufficient free space for volume extend on {row['host']} "
                                               f"(requested / avail): {delta}/{capacity['free_capacity_gb']}")
                try:
                    backend.extend(VOLUME_NAME.format(row["id"]), changes["size"])
                except BlockError as err:
                    raise _fail(err) from None
            values["size"] = changes["size"]
        if "description" in changes:
            values["description"] = changes["description"]
        if "bootable" in changes:
            values["bootable"] = changes["bootable"] == "true"
        if "properties" in changes:
            values["metadata"] = changes["properties"]
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == row["id"]).values(**values))

    # -- delete ------------------------------------------------------------------------
    def delete(self, tx, current):
        row = self._row
        if row["status"] not in DELETABLE or _attachments(tx, row["id"]):
            raise InvalidInput("state", f"Invalid volume: Volume status must be available or error or "
                                        f"error_restoring or error_extending or error_managing and must not be "
                                        f"migrating, attached, belong to a group, have snapshots or be "
                                        f"disassociated from snapshots after volume transfer. (volume "
                                        f"{row['id']} is {row['status']}; detach it first)")
        snaps = tx.scalar(select(func.count()).select_from(tx.t.snapshots).where(
            (tx.t.snapshots.c.volume_id == row["id"]) & (tx.t.snapshots.c.status != "deleted")))
        if snaps:
            raise InvalidInput("state", f"Invalid volume: Volume still has {snaps} dependent snapshots. "
                                        "Delete them first.")
        tx.execute(delete(tx.t.volumes).where(tx.t.volumes.c.id == row["id"]))
        if self.check_mode or not row.get("host"):
            return
        svc = service.service_by_host(tx, row["host"])
        if svc is None:
            self.warnings.append(f"Volume service {row['host']} is gone: nothing was removed on a host.")
            return
        try:
            service.host_target(svc).unexport(row["id"])
            service.host_backend(svc).delete(VOLUME_NAME.format(row["id"]))
        except BlockError as err:
            raise _fail(err) from None


class VolumeInfo(_BlockResource):
    result_key = "volumes"
    read_only = True

    def run(self, tx):
        project = self.project(tx)
        t = tx.t.volumes
        query = select(t).where(t.c.project_id == project["id"], t.c.status != "deleted").order_by(t.c.created_at)
        rows = tx.all(query)
        if self.params.get("name"):
            rows = [r for r in rows if self.params["name"] in (r["name"], r["id"])]
        if self.params.get("status"):
            rows = [r for r in rows if r["status"] == self.params["status"]]
        return {"changed": False, "volumes": [volume_record(tx, r) for r in rows],
                "table": [volume_list_row(tx, r) for r in rows]}


class VolumeSnapshot(_BlockResource):
    result_key = "snapshot"
    compared = ("description", "properties")

    def find(self, tx):
        project = self.project(tx)
        t = tx.t.snapshots
        row = _by_name_or_id(tx, t, self.params["name"], project["id"], "snapshot", live=t.c.status != "deleted")
        self._row = row
        return snapshot_record(row) if row else None

    def desired(self, tx, current):
        p = self.params
        wanted = {"name": require_name("name", p["name"]), "description": p.get("description"),
                  "properties": string_dict("metadata", p.get("metadata"))}
        if current is not None and p.get("volume"):
            volume = self._volume(tx, required=False)
            if volume is not None and volume["id"] != current["volume_id"]:
                raise InvalidInput("volume", f"snapshot {current['name']} belongs to volume {current['volume_id']}; "
                                             "a snapshot cannot move to another volume")
        return wanted

    def _volume(self, tx, required=True):
        project = self.project(tx)
        t = tx.t.volumes
        if not self.params.get("volume"):
            raise InvalidInput("volume", "is required to create a snapshot")
        row = _by_name_or_id(tx, t, self.params["volume"], project["id"], "volume", live=t.c.status != "deleted")
        if row is None and required:
            raise NotFound(f"No volume with a name or ID of '{self.params['volume']}' exists.")
        return row

    def create(self, tx, desired):
        volume = self._volume(tx)
        force = bool(self.params.get("force"))
        if volume["status"] != "available" and not (force and volume["status"] == "in-use"):
            raise InvalidInput("volume", f"Invalid volume: Volume {volume['id']} status must be available, but "
                                         f"current status is: {volume['status']}."
                                         + (" Use force: true to snapshot an in-use volume." if
                                            volume["status"] == "in-use" else ""))
        check_quota(tx, volume["project_id"], snapshots=1, gigabytes=volume["size"])
        snap_id = str(uuid.uuid4())
        tx.execute(insert(tx.t.snapshots), {
            "id": snap_id, "name": desired["name"], "project_id": volume["project_id"], "volume_id": volume["id"],
            "size": volume["size"], "status": "available", "progress": "100%",
            "description": desired.get("description"), "metadata": desired.get("properties") or {},
            "created_at": tx.now(),
        })
        if self.check_mode:
            return
        backend = service.host_backend(_service_for(tx, volume["host"]))
        name = SNAPSHOT_NAME.format(snap_id)
        try:
            backend.snapshot(VOLUME_NAME.format(volume["id"]), name, volume["size"])
        except BlockError as err:
            if backend.exists(name):
                backend.delete_snapshot(name)
            raise _fail(err) from None
        self.on_rollback(lambda: backend.delete_snapshot(name))

    def update(self, tx, current, desired, changes):
        values = {"updated_at": tx.now()}
        if "description" in changes:
            values["description"] = changes["description"]
        if "properties" in changes:
            values["metadata"] = changes["properties"]
        tx.execute(update(tx.t.snapshots).where(tx.t.snapshots.c.id == current["id"]).values(**values))

    def delete(self, tx, current):
        dependents = tx.scalar(select(func.count()).select_from(tx.t.volumes).where(
            (tx.t.volumes.c.snapshot_id == current["id"]) & (tx.t.volumes.c.status != "deleted")))
        backend_kind = None
        volume = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == current["volume_id"]))
        svc = service.service_by_host(tx, volume["host"]) if volume else None
        if svc is not None:
            backend_kind = svc.get("backend")
        if dependents and backend_kind == "lvm" and (svc.get("backend_config") or {}).get("lvm_type") == "thin":
            raise InvalidInput("state", f"Snapshot {current['id']} has {dependents} dependent volumes on a thin "
                                        "pool; delete them first.")
        tx.execute(delete(tx.t.snapshots).where(tx.t.snapshots.c.id == current["id"]))
        if self.check_mode or svc is None:
            return
        try:
            service.host_backend(svc).delete_snapshot(SNAPSHOT_NAME.format(current["id"]))
        except BlockError as err:
            raise _fail(err) from None


class VolumeSnapshotInfo(_BlockResource):
    result_key = "snapshots"
    read_only = True

    def run(self, tx):
        project = self.project(tx)
        t = tx.t.snapshots
        rows = tx.all(select(t).where(t.c.project_id == project["id"], t.c.status != "deleted")
                      .order_by(t.c.created_at))
        if self.params.get("name"):
            rows = [r for r in rows if self.params["name"] in (r["name"], r["id"])]
        if self.params.get("volume"):
            vt = tx.t.volumes
            vol = _by_name_or_id(tx, vt, self.params["volume"], project["id"], "volume")
            rows = [r for r in rows if vol and r["volume_id"] == vol["id"]]
        return {"changed": False, "snapshots": [snapshot_record(r) for r in rows]}


class ServerVolume(_BlockResource):
    """`openstack server add volume` / `server remove volume`."""

    result_key = "attachment"

    def _server(self, tx, volume=None):
        t = tx.t.servers
        project = self.project(tx)
        live = t.c.vm_state != "deleted"
        row = _by_name_or_id(tx, t, self.params["server"], project["id"], "server", live=live)
        if row is None and volume is not None:
            row = self._gone_server(tx, volume)
        if row is None:
            raise NotFound(f"No server with a name or ID of '{self.params['server']}' exists.")
        return row

    def _gone_server(self, tx, volume):
        """A deleted (or vanished) server that still holds this volume: detaching from it must
        stay possible, or nothing could ever free the volume."""
        value = self.params["server"]
        for att in _attachments(tx, volume["id"]):
            row = tx.one_or_none(select(tx.t.servers).where(tx.t.servers.c.id == att["server_id"]))
            if row is not None and value in (row["id"], row["name"]) and row["vm_state"] == "deleted":
                return row
            if row is None and value == att["server_id"]:
                return {"id": att["server_id"], "name": att["server_id"], "host": att.get("host"),
                        "status": "DELETED", "vm_state": "deleted", "project_id": volume["project_id"]}
        return None

    def _volume(self, tx):
        t = tx.t.volumes
        project = self.project(tx)
        row = _by_name_or_id(tx, t, self.params["volume"], project["id"], "volume", live=t.c.status != "deleted")
        if row is None:
            raise NotFound(f"No volume with a name or ID of '{self.params['volume']}' exists.")
        return row

    def find(self, tx):
        self._vol = self._volume(tx)
        absent = (self.params.get("state") or "present") == "absent"
        self._srv = self._server(tx, volume=self._vol if absent else None)
        t = tx.t.attachments
        row = tx.one_or_none(select(t).where(t.c.volume_id == self._vol["id"], t.c.server_id == self._srv["id"]))
        self._att = row
        if row is None:
            return None
        return self._record(row)

    @staticmethod
    def _record(row):
        return {"id": row["volume_id"], "server_id": row["server_id"], "volume_id": row["volume_id"],
                "device": row.get("device"), "tag": None, "delete_on_termination": False,
                "attachment_id": row["id"], "host": row.get("host")}

    def desired(self, tx, current):
        device = self.params.get("device")
        if device is not None and not attach_mod.valid_device(device):
            raise InvalidInput("device", f"must look like /dev/vdb (vd + one letter b..z), got {device!r}")
        wanted = device if device is None or device.startswith("/dev/") else f"/dev/{device}"
        if current is not None and wanted and current["device"] != wanted:
            raise InvalidInput("device", f"volume is attached as {current['device']}; detach it to use {device}")
        return current or {}

    def _compute(self, tx, server):
        if not server.get("host"):
            raise InvalidInput("server", f"server {server['name']} has no host (status {server['status']}); "
                                         "attach once it is ACTIVE")
        compute = attachments.compute_service(tx, server["host"])
        if compute is None:
            raise CatalogError(f"Compute service {server['host']} of server {server['name']} is not registered.")
        return compute

    def _attacher(self, compute):
        return attachments.attacher_for(compute, self.context)

    def _domain_name(self, server):
        return server["id"]  # domains carry the server's UUID, as with Nova

    def create(self, tx, desired):
        server, volume = self._srv, self._vol
        if volume["status"] != "available" or _attachments(tx, volume["id"]):
            holders = [a["server_id"] for a in _attachments(tx, volume["id"])]
            raise InvalidInput("volume", f"Invalid volume: volume {volume['id']} status must be 'available' to "
                                         f"attach, but it is '{volume['status']}'"
                                         + (f" (attached to server {', '.join(holders)})" if holders else "")
                                         + ". Detach it first; multiattach is not supported.")
        if server.get("status") not in ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"):
            raise InvalidInput("server", f"Cannot 'attach_volume' instance {server['id']} while it is in "
                                         f"vm_state {server.get('vm_state')}")
        key = self.secret_key()
        secrets._check_key(key)
        compute = self._compute(tx, server)
        svc = _service_for(tx, volume["host"])
        attacher = self._attacher(compute)
        initiator = attach_mod.initiator_name(compute["host"])
        device = self.params.get("device")
        if device and not device.startswith("/dev/"):
            device = f"/dev/{device}"
        if self.check_mode:
            try:
                device = device or attach_mod.next_device(attacher.domain(self._domain_name(server)).XMLDesc(0))
            except BlockError as err:
                raise _fail(err) from None
            self._insert(tx, server, volume, compute, device, None, None)
            return
        target = service.host_target(svc)
        user, secret = targets.generate_chap()
        path = service.host_backend(svc).path(VOLUME_NAME.format(volume["id"]))
        try:
            info = target.export(volume["id"], path, user, secret, initiator_names=[initiator],
                                 initiator_addresses=[service.initiator_address(svc, compute)])
            self.on_rollback(lambda: target.unexport(volume["id"]))
            device = attacher.attach(self._domain_name(server), volume["id"], info, secret, device=device,
                                     initiator=initiator)
            self.on_rollback(lambda: attacher.detach(self._domain_name(server), volume["id"]))
        except BlockError as err:
            target.unexport(volume["id"])
            raise _fail(err) from None
        self._insert(tx, server, volume, compute, device, info, f"CHAP {user} {secrets.encrypt(key, secret)}")

    def _insert(self, tx, server, volume, compute, device, info, auth):
        now = tx.now()
        connection = {k: v for k, v in (info or {}).items() if k != "provider_location"}
        connection["initiator"] = attach_mod.initiator_name(compute["host"])
        tx.execute(insert(tx.t.attachments), {
            "id": str(uuid.uuid4()), "volume_id": volume["id"], "server_id": server["id"], "host": compute["host"],
            "device": device, "attach_mode": "rw", "status": "attached", "connection_info": connection,
            "created_at": now,
        })
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
            status="in-use", attach_status="attached", updated_at=now,
            provider_location=(info or {}).get("provider_location"), provider_auth=auth))

    def update(self, tx, current, desired, changes):  # pragma: no cover - nothing is compared
        pass

    def delete(self, tx, current):
        plan = attachments.plan_for_attachment(tx, current["attachment_id"])
        attachments.free(tx, [plan])
        if self.check_mode:
            return
        gone = self._srv.get("vm_state") == "deleted"
        try:
            attachments.raise_failures(f"Detaching volume {self._vol['id']} failed",
                                       attachments.release_on_hosts([plan], self.context, domain_gone=gone))
        except BlockError as err:
            raise _fail(err) from None

    def outcome(self, changed, before, after):
        result = super().outcome(changed, before, after)
        # volumes_attached as the server shows it, and the volume as it is now.
        return result

    def run(self, tx):
        outcome = super().run(tx)
        vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == self._vol["id"]))
        outcome["volume"] = volume_record(tx, vol)
        outcome["volumes_attached"] = [{"id": a["volume_id"]} for a in tx.all(
            select(tx.t.attachments).where(tx.t.attachments.c.server_id == self._srv["id"]))]
        return outcome


def _connection(value):
    """The registered way to reach a block host, normalised by the one host runner."""
    try:
        return runner.connection_spec(value or {"connection": "local"})
    except runner.ConnectionSpecError as err:
        raise InvalidInput("connection", str(err)) from None


class VolumeService(_BlockResource):
    """Registers a block host's cinder-volume service (the block_host role calls it)."""

    result_key = "service"
    compared = ("zone", "status", "backend", "volume_backend_name", "target_helper", "target_ip",
                "disabled_reason", "_config")

    def find(self, tx):
        row = service.service_by_host(tx, self.params["host"])
        self._row = row
        if row is None:
            return None
        record = service.service_record(row, now=tx.now(), down_time=service_down_time())
        record["_config"] = {"connection": row.get("connection") or {}, "backend_config": row.get("backend_config")
                             or {}, "volume_group": row.get("volume_group"), "target_port": row.get("target_port")}
        return record

    def desired(self, tx, current):
        p = self.params
        host = require_name("host", p["host"])
        if "@" not in host:
            raise InvalidInput("host", f"must be '<node>@<backend>' as Cinder names volume services, got {host!r}")
        config = dict(p.get("backend_config") or {})
        backend = p.get("backend") or "lvm"
        if backend == "lvm":
            config.setdefault("lvm_type", "auto")
        return {
            "host": host, "zone": p.get("availability_zone") or "nova",
            "status": "enabled" if p.get("enabled", True) else "disabled",
            "backend": backend, "volume_backend_name": p.get("backend_name") or host.split("@", 1)[1],
            "target_helper": p.get("target_helper") or "tgtadm", "target_ip": p.get("target_ip") or "127.0.0.1",
            "disabled_reason": p.get("disabled_reason"),
            "_config": {"connection": _connection(p.get("connection")), "backend_config": config,
                        "volume_group": p.get("volume_group") if backend == "lvm" else None,
                        "target_port": require_int("target_port", p.get("target_port"), minimum=1,
                                                   maximum=65535) or targets.PORT},
        }

    def _values(self, desired):
        cfg = desired["_config"]
        return {
            "host": desired["host"], "binary": "cinder-volume", "availability_zone": desired["zone"],
            "enabled": desired["status"] == "enabled", "disabled_reason": desired.get("disabled_reason"),
            "backend": desired["backend"], "backend_name": desired["volume_backend_name"],
            "target_helper": desired["target_helper"], "target_ip": desired["target_ip"],
            "target_port": cfg["target_port"], "volume_group": cfg["volume_group"],
            "connection": cfg["connection"], "backend_config": cfg["backend_config"],
        }

    def _measure(self, tx, values):
        if self.check_mode:
            return {}
        try:
            capacity = service.host_backend(values).capacity()
        except BlockError as err:
            raise InvalidInput("backend_config", f"cannot measure the backend on {values['host']}: {err}") from None
        return dict(capacity, capacity_gb=int(capacity["total_capacity_gb"]), last_seen=tx.now())

    def create(self, tx, desired):
        values = self._values(desired)
        values.update(self._measure(tx, values), id=str(uuid.uuid4()), created_at=tx.now())
        tx.execute(insert(tx.t.volume_services), values)

    def update(self, tx, current, desired, changes):
        values = self._values(desired)
        values["updated_at"] = tx.now()
        tx.execute(update(tx.t.volume_services).where(tx.t.volume_services.c.id == self._row["id"]).values(**values))

    def delete(self, tx, current):
        t = tx.t.volumes
        used = tx.scalar(select(func.count()).select_from(t).where(t.c.host == current["host"],
                                                                   t.c.status != "deleted"))
        if used:
            raise InvalidInput("state", f"Volume service {current['host']} still holds {used} volumes; delete or "
                                        "migrate them first.")
        tx.execute(delete(tx.t.volume_services).where(tx.t.volume_services.c.id == self._row["id"]))

    def run(self, tx):
        outcome = super().run(tx)
        # A run that changes nothing still refreshes the capacity: that is the heartbeat.
        if self.params.get("state", "present") == "present" and not outcome["changed"] and not self.check_mode:
            row = service.service_by_host(tx, self.params["host"])
            fresh = service.refresh_capacity(tx, row)
            outcome["service"] = service.service_record(fresh, now=tx.now())
        if outcome.get("service"):
            outcome["service"].pop("_config", None)
        return outcome

    def for_diff(self, record):
        shown = super().for_diff(record)
        for key in ("updated_at", "state", "total_capacity_gb", "free_capacity_gb", "provisioned_capacity_gb"):
            shown.pop(key, None)
        return shown


class VolumeServiceInfo(_BlockResource):
    result_key = "services"
    read_only = True

    def run(self, tx):
        now = tx.now()
        rows = service.services(tx)
        records = [service.service_record(r, now=now, down_time=service_down_time()) for r in rows]
        from ..backup.services import backup_service_records

        # `openstack volume service list` also shows a cinder-backup row per block host.
        backups = backup_service_records(records)
        if self.params.get("host"):
            records = [r for r in records if r["host"] == self.params["host"]]
            backups = [r for r in backups if r["host"] == self.params["host"]]
        table = [{"Binary": r["binary"], "Host": r["host"], "Zone": r["zone"], "Status": r["status"],
                  "State": r["state"], "Updated At": r["updated_at"]} for r in records + backups]
        return {"changed": False, "services": records, "backup_services": backups, "table": table}
