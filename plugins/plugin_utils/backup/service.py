# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup workflows, each kept to the transaction rule (docs/architecture.md):

1. a short write transaction checks the request (names, states, quotas) and records the
   intent with a visible status (``creating``, ``deleting``, ``restoring``) and a task of the
   core (catalog/tasks.py: owner = this controller's host, pid, process start; an expiry; what
   the backup, its volume and its restore become if the owner dies);
2. the host work runs with no catalog lock held (the block host streams the volume to the
   proxy, or back), reporting ``progress``/``bytes_done`` in tiny transactions;
3. a short write transaction records the outcome and ends the task. On failure every undo
   step runs (the temporary snapshot, the objects written so far) and the status is ``error``
   with the reason in ``fail_reason``.

A task whose owner is gone (killed run) or whose expiry passed is settled by the core
(``tasks.settle_stale``, which every module run calls first): a ``creating`` backup becomes
``error`` with ``cleanup_pending``, and ``settle()`` removes its objects and temporary snapshot
the next time a module touches the backup.
"""

from __future__ import annotations

import time
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, insert, select, update
except ImportError:
    pass

from ..block import service as block_service
from ..block.backends import SNAPSHOT_NAME, VOLUME_NAME, GiB
from ..block.errors import BlockError
from ..catalog import lookup, tasks
from ..catalog.errors import CatalogError, InvalidInput, NotFound
from ..catalog.resource import iso
from ..processes import started_at
from . import fmt, hostjob

TEMP_SNAPSHOT = "backup-snapshot-{}"  # the temporary snapshot of an in-use volume (force)
PROGRESS_EVERY_S = 2.0
KIND = "backup"  # the core's task kind (catalog/tasks.py)
MOVING = ("creating", "deleting", "restoring")
DELETE_TTL_S = 600


class BackupError(CatalogError):
    """Cinder's InvalidBackup and friends: the message is shown as it is."""


class NameTaken(BackupError):
    """Another run recorded a backup of this name after this run looked for it (both ran at
    once): the caller reports that backup instead of making a second one (issue 13, item 10)."""

    def __init__(self, row):
        super().__init__(f"Backup {row['name']} already exists ({row['id']}, {row['status']}); run the task again.")
        self.row = row


# -- tasks (the core's transaction bookkeeping) --------------------------------------------


def begin_task(tx, backup_id, action, abandon, ttl, owner_pid=None) -> str:
    """The core's task for a backup's host work. ``owner_pid``: another process on this
    controller does the work (the detached worker of ``wait: false``): it owns the task."""
    task_id = tasks.begin(tx, KIND, backup_id, action, abandon, ttl)
    if owner_pid is not None:
        tx.execute(update(tx.t.tasks).where(tx.t.tasks.c.id == task_id).values(
            owner_pid=owner_pid, owner_started=started_at(owner_pid)))
    return task_id


def task_of(tx, backup_id) -> dict | None:
    running = tasks.active(tx, KIND, backup_id)
    return running[0] if running else None


def is_stale(tx, backup_id) -> bool:
    """The backup's task was abandoned (owner gone or expired), or it has no task at all while
    it shows an in-between status (a run from before this bookkeeping, or a killed one settled)."""
    task = task_of(tx, backup_id)
    return task is None or any(t["id"] == task["id"] for t in tasks.stale(tx))


def end_tasks(tx, backup_id) -> None:
    for task in tasks.active(tx, KIND, backup_id):
        tasks.end(tx, task["id"])


# -- lookups and records -----------------------------------------------------------------


def find_backup(tx, value, project_id=None):
    t = tx.t.backups
    return lookup.find(tx, t, value, "backup", where=[] if project_id is None else [t.c.project_id == project_id])


def get_backup(tx, backup_id):
    return tx.one_or_none(select(tx.t.backups).where(tx.t.backups.c.id == backup_id))


def find_volume(tx, value, project_id):
    t = tx.t.volumes
    return lookup.find(tx, t, value, "volume", where=[t.c.project_id == project_id, t.c.status != "deleted"])


def dependents(tx, backup_id) -> int:
    t = tx.t.backups
    return len(tx.all(select(t.c.id).where(t.c.parent_id == backup_id)))


def record(tx, row) -> dict:
    """A backup as `openstack volume backup show` prints it, plus progress while it moves."""
    moving = row["status"] in ("creating", "restoring")
    return {
        "availability_zone": row.get("availability_zone"),
        "container": row.get("container"),
        "created_at": iso(row["created_at"]),
        "data_timestamp": iso(row.get("data_timestamp")),
        "description": row.get("description"),
        "fail_reason": row.get("fail_reason"),
        "has_dependent_backups": dependents(tx, row["id"]) > 0,
        "id": row["id"],
        "is_incremental": bool(row.get("is_incremental")),
        "name": row.get("name"),
        "object_count": row.get("object_count") or 0,
        "size": row["size"],
        "snapshot_id": row.get("snapshot_id"),
        "status": row["status"],
        "updated_at": iso(row.get("updated_at")),
        "volume_id": row["volume_id"],
        "parent_id": row.get("parent_id"),
        "project_id": row["project_id"],
        "properties": dict(row.get("metadata") or {}),
        "compression": row.get("compression"),
        "host": row.get("host"),
        "progress": row.get("progress") if moving else (100 if row["status"] == "available" else row.get("progress")),
        "bytes_done": row.get("bytes_done"),
        "service_metadata": row.get("service_metadata"),
    }


def chain(tx, row) -> list[dict]:
    """The backup and its parents, the full backup first."""
    links = [row]
    while links[0].get("parent_id"):
        parent = get_backup(tx, links[0]["parent_id"])
        if parent is None:
            raise BackupError(f"Invalid backup: parent backup {links[0]['parent_id']} of backup {links[0]['id']} "
                              "is not in the catalog; import its record first.")
        links.insert(0, parent)
    return links


def service_for(tx, host):
    row = block_service.service_by_host(tx, host)
    if row is None:
        raise BackupError(f"Volume service {host} is not registered any more: run the block_host role on it.")
    return row


# -- small transactions --------------------------------------------------------------------


def set_backup(catalog, backup_id, **values):
    with catalog.begin() as tx:
        values.setdefault("updated_at", tx.now())
        tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup_id).values(**values))


class Progress:
    """Writes progress/bytes_done at most every PROGRESS_EVERY_S (tiny transactions)."""

    def __init__(self, catalog, backup_id):
        self.catalog = catalog
        self.backup_id = backup_id
        self.last = 0.0

    def __call__(self, done, total):
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and done < total:
            return
        self.last = now
        percent = int(done * 100 / total) if total else 100
        try:
            set_backup(self.catalog, self.backup_id, progress=percent, bytes_done=done)
        except CatalogError:
            pass  # a busy catalog must not fail the copy; the next line tries again


# -- settle --------------------------------------------------------------------------------


def settle(catalog, row, store=None) -> dict:
    """Settle what a killed run left on one backup: the core applies the abandoned task's
    updates (``creating`` -> ``error`` + ``cleanup_pending``, ``deleting`` -> ``error_deleting``,
    ``restoring`` -> ``available`` and the target ``error_restoring``); then the objects and the
    temporary snapshot of a failed run are removed (retried on each touch until the object store
    lets us). Returns the row as it is now."""
    tasks.settle_stale(catalog)
    with catalog.read() as tx:
        row = get_backup(tx, row["id"])
        orphan = row is not None and row["status"] in MOVING and task_of(tx, row["id"]) is None
    if orphan:  # an in-between status with no task: nobody works on it
        with catalog.begin() as tx:
            now = tx.now()
            values = {"status": "error_deleting" if row["status"] == "deleting" else
                      "available" if row["status"] == "restoring" else "error",
                      "fail_reason": f"{row['status']} was interrupted (no run works on it)", "updated_at": now}
            if row["status"] == "creating":
                values["cleanup_pending"] = True
            tx.execute(update(tx.t.backups).where((tx.t.backups.c.id == row["id"])
                                                  & (tx.t.backups.c.status == row["status"])).values(**values))
            row = get_backup(tx, row["id"])
    if row is not None and row.get("cleanup_pending") and row["status"] != "creating":
        cleanup_failed_run(catalog, row, store)
        with catalog.read() as tx:
            row = get_backup(tx, row["id"])
    return row


def cleanup_failed_run(catalog, row, store) -> list[str]:
    """Undo what a failed backup run left: the temporary snapshot and every object under its
    prefix. Each step runs even when another fails; the failures are returned."""
    problems = []
    with catalog.read() as tx:
        svc = block_service.service_by_host(tx, row.get("host")) if row.get("host") else None
    if svc is not None:
        try:
            backend = block_service.host_backend(svc)
            name = TEMP_SNAPSHOT.format(row["id"])
            if backend.exists(name):
                backend.delete_snapshot(name)
        except BlockError as err:
            problems.append(f"temporary snapshot: {err}")
    if store is None:
        problems.append("objects: no object store settings given")
    else:
        try:
            store.remove_prefix(row.get("container") or fmt.CONTAINER, row["service_metadata"])
        except CatalogError as err:
            problems.append(f"objects under {row['service_metadata']}: {err}")
    if not problems:
        set_backup(catalog, row["id"], cleanup_pending=False)
    return problems


def settle_all(catalog, store=None, project_id=None):
    tasks.settle_stale(catalog)
    with catalog.read() as tx:
        t = tx.t.backups
        query = select(t).where(t.c.status.in_(MOVING) | (t.c.cleanup_pending.is_(True)))
        if project_id:
            query = query.where(t.c.project_id == project_id)
        rows = [r for r in tx.all(query) if r["status"] not in MOVING or task_of(tx, r["id"]) is None]
    for row in rows:
        settle(catalog, row, store)


# -- create --------------------------------------------------------------------------------


def plan_create(tx, params, project, timeout, owner_pid=None) -> dict:
    """Checks and the row in ``creating`` (inside the caller's short transaction)."""
    volume = find_volume(tx, params["volume"], project["id"])
    if volume is None:
        raise NotFound(f"No volume with a name or ID of '{params['volume']}' exists.")
    # The name is looked up again here, under the write lock that records the new backup, so
    # two runs started at once cannot both make one (the caller's lookup was in another
    # transaction). Checked before the volume's status: the other run's backing-up is not an error.
    taken = find_backup(tx, params["name"], project["id"])
    if taken is not None:
        raise NameTaken(taken)
    snapshot = None
    if params.get("snapshot"):
        st = tx.t.snapshots
        rows = tx.all(select(st).where(((st.c.id == params["snapshot"]) | (st.c.name == params["snapshot"]))
                                       & (st.c.project_id == project["id"])))
        if not rows:
            raise NotFound(f"No snapshot with a name or ID of '{params['snapshot']}' exists.")
        snapshot = rows[0]
        if snapshot["volume_id"] != volume["id"]:
            raise InvalidInput("snapshot", f"snapshot {snapshot['name']} is of volume {snapshot['volume_id']}, "
                                           f"not of {volume['name']}")
        if snapshot["status"] != "available":
            raise BackupError(f"Invalid snapshot: Snapshot to be backed up must be available, but the current "
                              f"status is \"{snapshot['status']}\".")
    elif volume["status"] == "in-use" and not params.get("force"):
        raise BackupError("Invalid volume: Backing up an in-use volume must use the force flag. "
                          "(set force: true: an in-use volume is read through a temporary snapshot)")
    elif volume["status"] not in ("available", "in-use"):
        raise BackupError(f"Invalid volume: Volume to be backed up must be available or in-use, but the current "
                          f"status is \"{volume['status']}\".")
    if not volume.get("host"):
        raise BackupError(f"Invalid volume: volume {volume['id']} has no host.")
    parent = None
    t = tx.t.backups
    if params.get("incremental"):
        rows = tx.all(select(t).where((t.c.volume_id == volume["id"]) & (t.c.status == "available"))
                      .order_by(t.c.data_timestamp.desc(), t.c.created_at.desc()))
        if not rows:
            raise BackupError("Invalid backup: No backups available to do an incremental backup. "
                              f"(volume {volume['name'] or volume['id']} has no available backup: make a full one first)")
        parent = rows[0]
        if parent["size"] != volume["size"]:
            raise BackupError(f"Invalid backup: the volume has grown since its last backup {parent['id']} "
                              f"({parent['size']} -> {volume['size']} GiB); make a full backup.")
    from ..catalog.quotas import check as check_quota

    check_quota(tx, project["id"], backups=1, backup_gigabytes=volume["size"])
    svc = service_for(tx, volume["host"])
    now = tx.now()
    backup_id = str(uuid.uuid4())
    container = params.get("container") or fmt.CONTAINER
    zone = volume.get("availability_zone") or "nova"
    values = {
        "id": backup_id, "name": params["name"], "project_id": project["id"], "volume_id": volume["id"],
        "snapshot_id": snapshot["id"] if snapshot else None, "parent_id": parent["id"] if parent else None,
        "is_incremental": parent is not None, "size": volume["size"], "status": "creating",
        "availability_zone": zone, "container": container,
        "service_metadata": fmt.prefix(volume["id"], now, zone, backup_id), "object_count": 0,
        "description": params.get("description"), "data_timestamp": snapshot["created_at"] if snapshot else now,
        "created_at": now, "host": volume["host"], "metadata": params.get("metadata") or {},
        "compression": params.get("compression") or "zlib", "progress": 0, "bytes_done": 0,
        "cleanup_pending": False,
    }
    tx.execute(insert(t), values)
    abandon = [{"table": "backups", "id": backup_id,
                "values": {"status": "error", "fail_reason": "{reason}", "cleanup_pending": True}}]
    if volume["status"] == "available":  # Cinder shows backing-up; an in-use volume stays in-use
        volumes = tx.t.volumes
        tx.execute(update(volumes).where(volumes.c.id == volume["id"]).values(status="backing-up", updated_at=now))
        abandon.append({"table": "volumes", "id": volume["id"], "values": {"status": "available"}})
    task_id = begin_task(tx, backup_id, "creating", abandon, timeout, owner_pid)
    return {"backup": values, "volume": volume, "snapshot": snapshot, "parent": parent, "service": svc,
            "task_id": task_id}


def run_create(catalog, plan, store, timeout) -> dict:
    """Host work and outcome of a planned backup (no catalog lock held while it copies)."""
    row, volume, svc = plan["backup"], plan["volume"], plan["service"]
    backend = block_service.host_backend(svc)
    temp = None
    problems: list[str] = []
    try:
        store.ensure_container(row["container"])
        if plan["snapshot"] is not None:
            source = backend.path(SNAPSHOT_NAME.format(plan["snapshot"]["id"]))
        elif volume["status"] == "in-use":
            temp = TEMP_SNAPSHOT.format(row["id"])
            backend.snapshot(VOLUME_NAME.format(volume["id"]), temp, volume["size"])
            source = backend.path(temp)
        else:
            source = backend.path(VOLUME_NAME.format(volume["id"]))
        url, token = store.credentials()
        job = {
            "action": "backup", "storage_url": url, "token": token, "container": row["container"],
            "prefix": row["service_metadata"], "chunk_size": fmt.CHUNK_SIZE, "block_size": fmt.BLOCK_SIZE,
            "compression": row["compression"], "size_bytes": volume["size"] * GiB, "source_path": source,
            "parent_prefix": plan["parent"]["service_metadata"] if plan["parent"] else None,
            "header": {"backup_id": row["id"], "volume_id": volume["id"], "backup_name": row["name"],
                       "backup_description": row.get("description"), "created_at": iso(row["created_at"]),
                       "parent_id": row.get("parent_id"), "volume_meta": fmt.volume_meta(volume)},
        }
        done = hostjob.run(block_service.host_runner(svc), job, Progress(catalog, row["id"]), timeout=timeout)
    except (CatalogError, BlockError) as err:
        reason = str(err)
        for step in _undo_create(catalog, row, backend, temp, store):
            problems.append(step)
        pending = f"; not undone yet: {'; '.join(problems)}" if problems else ""
        _outcome(catalog, row["id"], volume["id"], status="error",
                 fail_reason=reason + (pending + " (settled when the backup is next touched)" if problems else ""),
                 cleanup_pending=bool(problems))
        raise BackupError(f"Backup {row['name']} failed: {reason}{pending}") from None
    if temp is not None:
        try:
            backend.delete_snapshot(temp)
        except BlockError as err:
            problems.append(f"temporary snapshot {temp}: {err}")
    _outcome(catalog, row["id"], volume["id"], status="available", object_count=done["object_count"], progress=100,
             bytes_done=volume["size"] * GiB, fail_reason=None, reached=svc["host"])
    return {"uploaded_bytes": done.get("bytes_uploaded"), "warnings": problems}


def _outcome(catalog, backup_id, volume_id, reached=None, **values):
    """The last short transaction of a create: the backup's outcome, its volume back to
    available (when it showed backing-up), the task ended; ``reached``, the block host whose
    program ran to its end, counts as that host's heartbeat (its services show up)."""
    with catalog.begin() as tx:
        now = tx.now()
        if reached:
            block_service.record_contact(tx, reached)
        tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup_id).values(updated_at=now, **values))
        volumes = tx.t.volumes
        tx.execute(update(volumes).where((volumes.c.id == volume_id) & (volumes.c.status == "backing-up"))
                   .values(status="available", updated_at=now))
        end_tasks(tx, backup_id)


def _undo_create(catalog, row, backend, temp, store):
    problems = []
    if temp is not None:
        try:
            if backend.exists(temp):
                backend.delete_snapshot(temp)
        except BlockError as err:
            problems.append(f"temporary snapshot {temp}: {err}")
    try:
        store.remove_prefix(row["container"], row["service_metadata"])
    except CatalogError as err:
        problems.append(f"objects under {row['service_metadata']}: {err}")
    return problems


# -- delete --------------------------------------------------------------------------------


def plan_delete(tx, row):
    if dependents(tx, row["id"]):
        raise BackupError("Invalid backup: Incremental backups exist for this backup. (delete them first)")
    if row["status"] not in ("available", "error", "error_deleting"):
        raise BackupError(f"Invalid backup: Backup status must be available or error, but it is {row['status']}.")
    tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == row["id"]).values(
        status="deleting", updated_at=tx.now()))
    begin_task(tx, row["id"], "deleting", [{"table": "backups", "id": row["id"], "values": {
        "status": "error_deleting", "fail_reason": "{reason}; delete it again"}}], DELETE_TTL_S)


def run_delete(catalog, row, store):
    try:
        if row.get("service_metadata"):
            store.remove_prefix(row.get("container") or fmt.CONTAINER, row["service_metadata"])
    except CatalogError as err:
        with catalog.begin() as tx:
            tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == row["id"]).values(
                status="error_deleting", fail_reason=str(err), updated_at=tx.now()))
            end_tasks(tx, row["id"])
        raise BackupError(f"Backup {row['name']} could not be deleted: {err}") from None
    with catalog.begin() as tx:
        end_tasks(tx, row["id"])
        tx.execute(delete(tx.t.backup_restores).where(tx.t.backup_restores.c.backup_id == row["id"]))
        tx.execute(delete(tx.t.backups).where(tx.t.backups.c.id == row["id"]))


# -- restore -------------------------------------------------------------------------------


def check_restore_target(volume, backup):
    if volume["status"] != "available":
        raise BackupError(f"Invalid volume: Volume to be restored to must be available, but volume "
                          f"{volume['name'] or volume['id']} is {volume['status']}"
                          + (" (detach it first)." if volume["status"] == "in-use" else "."))
    if volume["size"] < backup["size"]:
        raise BackupError(f"Invalid volume: volume size {volume['size']} is too small to restore backup of size "
                          f"{backup['size']}. (restore into a volume of at least {backup['size']} GiB)")


def run_restore(catalog, backup, links, volume, restore_id, store, timeout):
    svc = None
    with catalog.read() as tx:
        svc = service_for(tx, volume["host"])
    backend = block_service.host_backend(svc)
    try:
        url, token = store.credentials()
        job = {"action": "restore", "storage_url": url, "token": token, "container": backup["container"],
               "target_path": backend.path(VOLUME_NAME.format(volume["id"])),
               "chain": [{"backup_id": b["id"], "prefix": b["service_metadata"]} for b in links]}
        hostjob.run(block_service.host_runner(svc), job, Progress(catalog, backup["id"]), timeout=timeout)
    except (CatalogError, BlockError) as err:
        with catalog.begin() as tx:
            now = tx.now()
            tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
                status="error_restoring", updated_at=now))
            tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup["id"]).values(
                status="available", updated_at=now))
            tx.execute(update(tx.t.backup_restores).where(tx.t.backup_restores.c.id == restore_id).values(
                status="error", fail_reason=str(err), updated_at=now))
            end_tasks(tx, backup["id"])
        raise BackupError(f"Restore of backup {backup['name']} into volume {volume['name'] or volume['id']} "
                          f"failed: {err}") from None
    with catalog.begin() as tx:
        now = tx.now()
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
            status="available", updated_at=now))
        tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup["id"]).values(
            status="available", progress=100, updated_at=now))
        tx.execute(update(tx.t.backup_restores).where(tx.t.backup_restores.c.id == restore_id).values(
            status="done", updated_at=now))
        block_service.record_contact(tx, svc["host"])
        end_tasks(tx, backup["id"])


def end_restore(catalog, backup_id, restore_id, reason):
    """A restore that failed before its copy began: the backup back to available, the restore
    recorded as failed, the task ended (the new volume's own failure is its status)."""
    with catalog.begin() as tx:
        now = tx.now()
        tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup_id).values(
            status="available", updated_at=now))
        tx.execute(update(tx.t.backup_restores).where(tx.t.backup_restores.c.id == restore_id).values(
            status="error", fail_reason=reason, updated_at=now))
        end_tasks(tx, backup_id)


# -- export / import -----------------------------------------------------------------------

RECORD_FIELDS = ("id", "name", "volume_id", "snapshot_id", "parent_id", "is_incremental", "size",
                 "availability_zone", "container", "service_metadata", "object_count", "description",
                 "compression", "metadata")


def export_record(row) -> dict:
    data = {k: row.get(k) for k in RECORD_FIELDS}
    data["display_name"] = row.get("name")
    data["created_at"] = iso(row["created_at"])
    data["data_timestamp"] = iso(row.get("data_timestamp"))
    return {"backup_service": fmt.SERVICE, "backup_url": fmt.encode_record(data)}


def decode_import(service_name, url) -> dict:
    if service_name != fmt.SERVICE:
        raise InvalidInput("backup_service", f"must be {fmt.SERVICE} (the Swift chunked driver), got "
                                             f"{service_name!r}")
    try:
        data = fmt.decode_record(url)
    except ValueError:
        raise InvalidInput("backup_url", "is not a backup record export (base64 of JSON); copy the "
                                         "backup_url that volume_backup_record export returned") from None
    missing = [k for k in ("id", "volume_id", "size", "service_metadata") if not data.get(k)]
    if missing:
        raise InvalidInput("backup_url", f"the record lacks {', '.join(missing)}")
    return data


def load_plan(tx, backup_id) -> dict:
    """The plan of a backup recorded by plan_create (for the detached worker)."""
    row = get_backup(tx, backup_id)
    volume = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == row["volume_id"]))
    snapshot = None
    if row.get("snapshot_id"):
        snapshot = tx.one_or_none(select(tx.t.snapshots).where(tx.t.snapshots.c.id == row["snapshot_id"]))
    parent = get_backup(tx, row["parent_id"]) if row.get("parent_id") else None
    if volume["status"] == "backing-up":
        volume = {**volume, "status": "available"}
    task = task_of(tx, backup_id)
    return {"backup": row, "volume": volume, "snapshot": snapshot, "parent": parent,
            "service": service_for(tx, row["host"]), "task_id": task["id"] if task else None}
