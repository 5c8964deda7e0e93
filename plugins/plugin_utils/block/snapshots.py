# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.volume_snapshot`` and ``volume_snapshot_info``: snapshots of volumes."""

from __future__ import annotations

import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from ..catalog.errors import InvalidInput, NotFound
from ..catalog.quotas import check as check_quota
from ..catalog.resource import require_name, string_dict
from . import service
from .backends import SNAPSHOT_NAME, VOLUME_NAME
from .records import snapshot_record
from .resource import (
    IN_BETWEEN,
    BlockResource,
    by_name_or_id,
    failed_to,
    service_for,
    set_status,
    status_abandon,
)


class VolumeSnapshot(BlockResource):
    result_key = "snapshot"
    compared = ("description", "properties")

    def find(self, tx):
        project = self.project(tx)
        t = tx.t.snapshots
        row = by_name_or_id(tx, t, self.params["name"], project["id"], "snapshot", live=t.c.status != "deleted")
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
        row = by_name_or_id(tx, t, self.params["volume"], project["id"], "volume", live=t.c.status != "deleted")
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
        backend = service.host_backend(service_for(tx, volume["host"]))
        name = SNAPSHOT_NAME.format(snap_id)

        def work(undo):
            undo.add(f"removing {name}", lambda: backend.exists(name) and backend.delete_snapshot(name))
            backend.snapshot(VOLUME_NAME.format(volume["id"]), name, volume["size"])

        self.host_work(tx, "snapshot", snap_id, "creating", work, failed_to("snapshots", snap_id),
                       done=lambda tx: set_status(tx, "snapshots", snap_id, status="available", progress="100%",
                                                  status_reason=None),
                       abandon=[status_abandon("snapshots", snap_id)])

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
        set_status(tx, "snapshots", current["id"], status="deleting")
        snap_id = current["id"]
        self.host_work(tx, "snapshot", snap_id, "deleting",
                       lambda _undo: service.host_backend(svc).delete_snapshot(SNAPSHOT_NAME.format(snap_id)),
                       failed_to("snapshots", snap_id),
                       done=lambda tx: tx.execute(delete(tx.t.snapshots).where(tx.t.snapshots.c.id == snap_id)),
                       abandon=[status_abandon("snapshots", snap_id)])


class VolumeSnapshotInfo(BlockResource):
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
            vol = by_name_or_id(tx, vt, self.params["volume"], project["id"], "volume")
            rows = [r for r in rows if vol and r["volume_id"] == vol["id"]]
        return {"changed": False, "snapshots": [snapshot_record(r) for r in rows]}
