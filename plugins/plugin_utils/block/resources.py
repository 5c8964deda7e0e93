# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog resources of the block modules: volume, volume_snapshot, server_volume,
volume_service and their _info companions (catalog.resource.Resource subclasses).

The transaction rule (docs/architecture.md): transaction 1 validates and records the
in-between status (``creating``, ``extending``, ``deleting``, ``attaching``, ``detaching``)
with a task naming this run as owner; the host work (lvcreate, tgt-admin, libvirt hot-plug)
runs after the commit with no catalog lock, each step registering its undo; transaction 2
records the outcome. A failure runs every undo step and leaves the status ``error`` with the
reason in ``status_reason`` (a failed attach whose undo succeeded leaves it ``available``).
Another playbook meanwhile sees the in-between status and Cinder's refusals. In check mode
nothing runs on any host.
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
#: statuses that only a run in progress shows (a killed run's is settled to error)
IN_BETWEEN = ("creating", "extending", "deleting", "attaching", "detaching")


def _status_abandon(table, row_id, **values):
    return {"table": table, "id": row_id, "values": {"status": "error", "status_reason": "{reason}", **values}}


def _set_status(tx, table, row_id, **values):
    t = tx.tables[table]
    values.setdefault("updated_at", tx.now())
    tx.execute(update(t).where(t.c.id == row_id).values(**values))


def _failed_to(table, row_id, status="error"):
    """failed(tx, reason, undone) of a host work: the row takes ``status`` with the reason."""
    def failed(tx, reason, _undone):
        _set_status(tx, table, row_id, status=status, status_reason=reason)
    return failed


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
        "status_reason": row.get("status_reason"),
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
        "status_reason": row.get("status_reason"),
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
        if row is not None and row["status"] in IN_BETWEEN:
            self.busy(tx, "volume", row["id"])
        return volume_record(tx, row) if row else None

    def measure(self, catalog):
        """Before transaction 1 (no lock held): the free space the scheduler or an extend
        needs, measured on the block hosts and recorded in short transactions."""
        if self.check_mode:
            return  # the figures last recorded serve a preview
        with catalog.read() as tx:
            current = self.find(tx)
            self.wait_for = None
            if self.params.get("state") == "absent" or self.params.get("snapshot"):
                return
            if current is None:
                rows = [r for r in service.services(tx) if r.get("enabled", True)]
            elif (self.params.get("size") or 0) > current["size"]:
                rows = [r for r in [service.service_by_host(tx, current["host"])] if r]
            else:
                return
        self._capacity = {}
        for row in rows:
            try:
                self._capacity[row["host"]] = service.host_backend(row).capacity()
            except Exception:  # an unreachable host keeps its old figures and turns 'down'
                continue
        if self._capacity:
            with catalog.begin() as tx:
                for host, capacity in self._capacity.items():
                    service.record_capacity(tx, host, capacity)

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
            candidates = [service.service_record(row, now=now, down_time=service_down_time())
                          for row in all_services]
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
            "status": "available" if self.check_mode else "creating", "attach_status": "detached",
            "availability_zone": zone,
            "host": chosen["host"], "volume_type": volume_type,
            "bootable": (p.get("bootable") if p.get("bootable") is not None else image is not None),
            "description": desired.get("description"), "metadata": desired.get("properties") or {},
            "snapshot_id": snap["id"] if snap else None, "image_id": image["id"] if image else None,
            "created_at": now,
        })
        backend = service.host_backend(chosen)
        name = VOLUME_NAME.format(volume_id)

        def work(undo):
            undo.add(f"removing {name} on {chosen['host']}", lambda: backend.exists(name) and backend.delete(name))
            if snap is not None:
                backend.create_from_snapshot(SNAPSHOT_NAME.format(snap["id"]), name, size)
            else:
                backend.create(name, size)
            if image is not None:
                # the image file is the controller's: a remote block host gets a staged copy
                with backend.image_on_host(image["location"][len("file://"):]) as image_path:
                    backend.copy_image(image_path, image.get("disk_format") or "raw", name)

        def done(tx):
            # Only from `creating`: a caller may have moved it on meanwhile (restoring-backup).
            t = tx.t.volumes
            tx.execute(update(t).where(t.c.id == volume_id, t.c.status == "creating").values(
                status="available", status_reason=None, updated_at=tx.now()))

        self.host_work(tx, "volume", volume_id, "creating", work, _failed_to("volumes", volume_id), done=done,
                       abandon=[_status_abandon("volumes", volume_id)])

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
            capacity = getattr(self, "_capacity", {}).get(row["host"]) or svc
            if not capacity.get("thin_provisioning") and delta > (capacity.get("free_capacity_gb") or 0):
                raise InvalidInput("size", f"Insufficient free space for volume extend on {row['host']} "
                                           f"(requested / avail): {delta}/{capacity.get('free_capacity_gb')}")
            if self.check_mode:
                values["size"] = changes["size"]
            else:
                backend, new_size = service.host_backend(svc), changes["size"]
                values["status"] = "extending"
                self.host_work(tx, "volume", row["id"], "extending",
                               lambda _undo: backend.extend(VOLUME_NAME.format(row["id"]), new_size),
                               _failed_to("volumes", row["id"]),
                               done=lambda tx: _set_status(tx, "volumes", row["id"], status="available",
                                                           size=new_size, status_reason=None),
                               abandon=[_status_abandon("volumes", row["id"])])
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
        svc = service.service_by_host(tx, row["host"]) if row.get("host") else None
        if self.check_mode or svc is None:
            if row.get("host") and svc is None:
                self.warnings.append(f"Volume service {row['host']} is gone: nothing was removed on a host.")
            tx.execute(delete(tx.t.volumes).where(tx.t.volumes.c.id == row["id"]))
            return
        _set_status(tx, "volumes", row["id"], status="deleting")

        def work(_undo):
            service.host_target(svc).unexport(row["id"])
            service.host_backend(svc).delete(VOLUME_NAME.format(row["id"]))

        self.host_work(tx, "volume", row["id"], "deleting", work, _failed_to("volumes", row["id"]),
                       done=lambda tx: tx.execute(delete(tx.t.volumes).where(tx.t.volumes.c.id == row["id"])),
                       abandon=[_status_abandon("volumes", row["id"])])


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
        if row is not None and row["status"] in IN_BETWEEN:
            self.busy(tx, "snapshot", row["id"])
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
            "size": volume["size"], "status": "available" if self.check_mode else "creating",
            "progress": "100%" if self.check_mode else "0%",
            "description": desired.get("description"), "metadata": desired.get("properties") or {},
            "created_at": tx.now(),
        })
        backend = service.host_backend(_service_for(tx, volume["host"]))
        name = SNAPSHOT_NAME.format(snap_id)

        def work(undo):
            undo.add(f"removing {name}", lambda: backend.exists(name) and backend.delete_snapshot(name))
            backend.snapshot(VOLUME_NAME.format(volume["id"]), name, volume["size"])

        self.host_work(tx, "snapshot", snap_id, "creating", work, _failed_to("snapshots", snap_id),
                       done=lambda tx: _set_status(tx, "snapshots", snap_id, status="available", progress="100%",
                                                   status_reason=None),
                       abandon=[_status_abandon("snapshots", snap_id)])

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
        if current["status"] in IN_BETWEEN:
            raise InvalidInput("state", f"Invalid snapshot: Snapshot {current['id']} status must be available or "
                                        f"error, but it is {current['status']}.")
        if self.check_mode or svc is None:
            tx.execute(delete(tx.t.snapshots).where(tx.t.snapshots.c.id == current["id"]))
            return
        _set_status(tx, "snapshots", current["id"], status="deleting")
        snap_id = current["id"]
        self.host_work(tx, "snapshot", snap_id, "deleting",
                       lambda _undo: service.host_backend(svc).delete_snapshot(SNAPSHOT_NAME.format(snap_id)),
                       _failed_to("snapshots", snap_id),
                       done=lambda tx: tx.execute(delete(tx.t.snapshots).where(tx.t.snapshots.c.id == snap_id)),
                       abandon=[_status_abandon("snapshots", snap_id)])


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
        if row["status"] in IN_BETWEEN:
            self.busy(tx, "volume", self._vol["id"])
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
        attachment_id = self._insert(tx, server, volume, compute, device, None, None, status="attaching")
        made = {}

        def work(undo):
            undo.add(f"removing the target of volume {volume['id']}", lambda: target.unexport(volume["id"]))
            made["info"] = target.export(volume["id"], path, user, secret, initiator_names=[initiator],
                                         initiator_addresses=[service.initiator_address(svc, compute)])
            undo.add(f"unplugging volume {volume['id']} from server {server['id']}",
                     lambda: attacher.detach(self._domain_name(server), volume["id"]))
            made["device"] = attacher.attach(self._domain_name(server), volume["id"], made["info"], secret,
                                             device=device, initiator=initiator)

        def done(tx):
            info = made["info"]
            connection = {k: v for k, v in info.items() if k != "provider_location"}
            connection["initiator"] = initiator
            _set_status(tx, "attachments", attachment_id, status="attached", device=made["device"],
                        connection_info=connection)
            _set_status(tx, "volumes", volume["id"], status="in-use", attach_status="attached", status_reason=None,
                        provider_location=info.get("provider_location"),
                        provider_auth=f"CHAP {user} {secrets.encrypt(key, secret)}")

        def failed(tx, reason, undone):
            # Nothing half-made: a cleanly undone attach leaves the volume as it was.
            if undone:
                tx.execute(delete(tx.t.attachments).where(tx.t.attachments.c.id == attachment_id))
                _set_status(tx, "volumes", volume["id"], status="available", attach_status="detached",
                            status_reason=reason)
            else:
                _set_status(tx, "attachments", attachment_id, status="error_attaching")
                _set_status(tx, "volumes", volume["id"], status="error", status_reason=reason)

        self.host_work(tx, "volume", volume["id"], "attaching", work, failed, done=done, abandon=[
            _status_abandon("volumes", volume["id"]),
            {"table": "attachments", "id": attachment_id, "values": {"status": "error_attaching"}}])

    def _insert(self, tx, server, volume, compute, device, info, auth, status="attached"):
        now = tx.now()
        connection = {k: v for k, v in (info or {}).items() if k != "provider_location"}
        connection["initiator"] = attach_mod.initiator_name(compute["host"])
        attachment_id = str(uuid.uuid4())
        tx.execute(insert(tx.t.attachments), {
            "id": attachment_id, "volume_id": volume["id"], "server_id": server["id"], "host": compute["host"],
            "device": device, "attach_mode": "rw", "status": status, "connection_info": connection,
            "created_at": now,
        })
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
            status="in-use" if status == "attached" else status, attach_status=status, updated_at=now,
            provider_location=(info or {}).get("provider_location"), provider_auth=auth))
        return attachment_id

    def update(self, tx, current, desired, changes):  # pragma: no cover - nothing is compared
        pass

    def delete(self, tx, current):
        volume = self._vol
        if self._att["status"] in IN_BETWEEN:
            raise InvalidInput("state", f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' "
                                        f"and attach_status must be 'attached' to detach (volume {volume['id']} is "
                                        f"{self._att['status']}).")
        plan = attachments.plan_for_attachment(tx, current["attachment_id"])
        if self.check_mode:
            attachments.free(tx, [plan])
            return
        _set_status(tx, "attachments", current["attachment_id"], status="detaching")
        _set_status(tx, "volumes", volume["id"], status="detaching")
        gone = self._srv.get("vm_state") == "deleted"

        def work(_undo):
            attachments.raise_failures(f"Detaching volume {volume['id']} failed",
                                       attachments.release_on_hosts([plan], self.context, domain_gone=gone))

        def failed(tx, reason, _undone):
            _set_status(tx, "attachments", current["attachment_id"], status="error_detaching")
            _set_status(tx, "volumes", volume["id"], status="error", status_reason=reason)

        self.host_work(tx, "volume", volume["id"], "detaching", work, failed,
                       done=lambda tx: attachments.free(tx, [plan]), abandon=[
                           _status_abandon("volumes", volume["id"]),
                           {"table": "attachments", "id": current["attachment_id"],
                            "values": {"status": "error_detaching"}}])

    def _volume_and_attached(self, tx, outcome):
        # The volume as it is now, and volumes_attached as the server shows it.
        vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == self._vol["id"]))
        outcome["volume"] = volume_record(tx, vol)
        outcome["volumes_attached"] = [{"id": a["volume_id"]} for a in tx.all(
            select(tx.t.attachments).where(tx.t.attachments.c.server_id == self._srv["id"]))]

    def run(self, tx):
        outcome = super().run(tx)
        self._volume_and_attached(tx, outcome)
        return outcome

    def report(self, tx, outcome):
        super().report(tx, outcome)
        self._volume_and_attached(tx, outcome)


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

    def measure(self, catalog):
        """Before transaction 1 (no lock held): the backend's capacity, measured on the host."""
        self._measured = None
        if self.check_mode or (self.params.get("state") or "present") == "absent":
            return
        values = self._values(self.desired(None, None))
        try:
            self._measured = service.host_backend(values).capacity()
        except BlockError as err:
            self._measured = err

    def _measure(self, tx, values):
        measured = getattr(self, "_measured", None)
        if self.check_mode or measured is None:
            return {}
        if isinstance(measured, Exception):
            raise InvalidInput("backend_config", f"cannot measure the backend on {values['host']}: {measured}")
        return dict(measured, capacity_gb=int(measured["total_capacity_gb"]), last_seen=tx.now())

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
        measured = getattr(self, "_measured", None)
        if self.params.get("state", "present") == "present" and not outcome["changed"] and not self.check_mode \
                and isinstance(measured, dict):
            service.record_capacity(tx, self.params["host"], measured)
            fresh = service.service_by_host(tx, self.params["host"])
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
