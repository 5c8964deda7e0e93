# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.volume`` and ``volume_info``: create (empty, from a snapshot or an image),
extend, update and delete volumes, following the transaction rule (block/resource.py)."""

from __future__ import annotations

import math
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from .. import testpoints
from ..catalog.errors import InvalidInput, NotFound
from ..catalog.hosts import service_down_time
from ..catalog.quotas import check as check_quota
from ..catalog.resource import require_int, require_name, string_dict
from . import scheduler, service
from .backends import SNAPSHOT_NAME, VOLUME_NAME, GiB
from .errors import NoValidBackend
from .records import DEFAULT_TYPE, attachments_of, volume_record
from .resource import (
    IN_BETWEEN,
    BlockResource,
    by_name_or_id,
    failed_to,
    service_for,
    set_status,
    status_abandon,
    to_catalog_error,
)

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")


def with_unreached(err, unreached):
    """A scheduling failure that names the block hosts the measurement just now could not
    reach and why (a stopped host is otherwise only "down" after service_down_time)."""
    if not unreached:
        return err
    reached = "; ".join(f"{host}: {why}" for host, why in sorted(unreached.items()))
    return NoValidBackend(f"{str(err).replace('No valid backend was found. ', '')} Not reachable now: {reached}")


class Volume(BlockResource):
    result_key = "volume"
    compared = ("size", "description", "bootable", "properties")

    def find(self, tx):
        project = self.project(tx)
        t = tx.t.volumes
        row = by_name_or_id(tx, t, self.params["name"], project["id"], "volume",
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
            # Bad input fails here, before anything is measured or recorded (the catalog stays as it was).
            warnings = list(self.warnings)
            self.desired(tx, current)
            self.warnings[:] = warnings
            if current is None:
                rows = [r for r in service.services(tx) if r.get("enabled", True)]
            elif (self.params.get("size") or 0) > current["size"]:
                rows = [r for r in [service.service_by_host(tx, current["host"])] if r]
            else:
                return
        self._capacity, self._unreached = {}, {}
        for row in rows:
            try:
                self._capacity[row["host"]] = service.host_backend(row).capacity()
            except Exception as err:  # an unreachable host keeps its old figures and turns 'down'
                self._unreached[row["host"]] = str(err)  # named if no backend is left
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
            "bootable": None if p.get("bootable") is None else bool(p["bootable"]),
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
        snap = by_name_or_id(tx, t, self.params["snapshot"], project_id, "snapshot", live=t.c.status != "deleted")
        if snap is None:
            raise NotFound(f"No snapshot with a name or ID of '{self.params['snapshot']}' exists.")
        if snap["status"] != "available":
            raise InvalidInput("snapshot", f"Originating snapshot status must be one of 'available' values, "
                                           f"it is {snap['status']!r}")
        return snap

    def _source_image(self, tx, project_id):
        t = tx.t.images
        image = by_name_or_id(tx, t, self.params["image"], None, "image")
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
            chosen = service_for(tx, source_volume["host"])  # Cinder makes it where the snapshot is
            zone = source_volume["availability_zone"]
        else:
            now = tx.now()
            candidates = [service.service_record(row, now=now, down_time=service_down_time())
                          for row in all_services]
            try:
                picked = scheduler.schedule(candidates, size, availability_zone=p.get("availability_zone"),
                                            backend_name=None if volume_type in (None, DEFAULT_TYPE) else volume_type)
            except NoValidBackend as err:
                raise to_catalog_error(with_unreached(err, getattr(self, "_unreached", {}))) from None
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
        self._create_on_host(tx, chosen, volume_id, size, snap, image)

    def _create_on_host(self, tx, chosen, volume_id, size, snap, image, again=False):
        backend = service.host_backend(chosen)
        name = VOLUME_NAME.format(volume_id)

        def work(undo):
            undo.add(f"removing {name} on {chosen['host']}", lambda: backend.exists(name) and backend.delete(name))
            if again and backend.exists(name):  # what the interrupted create left, maybe half-filled
                backend.delete(name)
            if snap is not None:
                backend.create_from_snapshot(SNAPSHOT_NAME.format(snap["id"]), name, size)
            else:
                backend.create(name, size)
            testpoints.reached("host-work")
            if image is not None:
                # the image file is the controller's: a remote block host gets a staged copy
                with backend.image_on_host(image["location"][len("file://"):]) as image_path:
                    backend.copy_image(image_path, image.get("disk_format") or "raw", name)

        def done(tx):
            # Only from `creating`: a caller may have moved it on meanwhile (restoring-backup).
            t = tx.t.volumes
            tx.execute(update(t).where(t.c.id == volume_id, t.c.status == "creating").values(
                status="available", status_reason=None, updated_at=tx.now()))

        self.host_work(tx, "volume", volume_id, "creating", work, failed_to("volumes", volume_id), done=done,
                       abandon=[status_abandon("volumes", volume_id)])

    def run(self, tx):
        if (self.params.get("state") or "present") == "present":
            current = self.find(tx)
            row = self._row
            if row is not None and row["status"] == "error" and not self.wait_for \
                    and "creating was interrupted" in (row.get("status_reason") or ""):
                return self._create_again(tx, current, row)
            self.wait_for = None
        return super().run(tx)

    def _create_again(self, tx, before, row):
        """A create that a killed run never finished (settled to error): the same task run again
        removes what it left on the block host and makes the volume again: the run converges."""
        snap = image = None
        if row.get("snapshot_id"):
            snap = tx.one_or_none(select(tx.t.snapshots).where(tx.t.snapshots.c.id == row["snapshot_id"]))
        if row.get("image_id"):
            image = tx.one_or_none(select(tx.t.images).where(tx.t.images.c.id == row["image_id"]))
        set_status(tx, "volumes", row["id"], status="available" if self.check_mode else "creating",
                   status_reason=None)
        self.warnings.append(f"Volume {row['name']} ({row['id']}): its create was interrupted "
                             f"({row['status_reason']}); made it again")
        if not self.check_mode:
            self._create_on_host(tx, service_for(tx, row["host"]), row["id"], row["size"], snap, image, again=True)
        return self.outcome(True, before, self.find(tx))

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
            svc = service_for(tx, row["host"])
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
                               failed_to("volumes", row["id"]),
                               done=lambda tx: set_status(tx, "volumes", row["id"], status="available",
                                                          size=new_size, status_reason=None),
                               abandon=[status_abandon("volumes", row["id"])])
        if "description" in changes:
            values["description"] = changes["description"]
        if "bootable" in changes:
            values["bootable"] = bool(changes["bootable"])
        if "properties" in changes:
            values["metadata"] = changes["properties"]
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == row["id"]).values(**values))

    # -- delete ------------------------------------------------------------------------
    def delete(self, tx, current):
        row = self._row
        if row["status"] not in DELETABLE or attachments_of(tx, row["id"]):
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
        set_status(tx, "volumes", row["id"], status="deleting")

        def work(_undo):
            service.host_target(svc).unexport(row["id"])
            service.host_backend(svc).delete(VOLUME_NAME.format(row["id"]))

        self.host_work(tx, "volume", row["id"], "deleting", work, failed_to("volumes", row["id"]),
                       done=lambda tx: tx.execute(delete(tx.t.volumes).where(tx.t.volumes.c.id == row["id"])),
                       abandon=[status_abandon("volumes", row["id"])])


class VolumeInfo(BlockResource):
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
        return {"changed": False, "volumes": [volume_record(tx, r) for r in rows]}
