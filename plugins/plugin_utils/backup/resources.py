# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the backup modules run: each ``execute(catalog)`` opens its own short transactions
(see service.py) instead of the one task-long transaction of the catalog base."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import insert, select, update
except ImportError:
    pass

from ..catalog.errors import CatalogError, InvalidInput, NotFound
from ..catalog.projects import find_project
from ..catalog.resource import Resource, require_int, require_name, string_dict
from . import fmt, service
from .store import Store

STORE_KEYS = ("cloud", "auth", "auth_type", "region_name", "validate_certs", "ca_cert", "swift_url")


def store_for(params) -> Store | None:
    """A Store from the object modules' settings, or None when none are given."""
    settings = {k: params.get(k) for k in STORE_KEYS}
    settings["timeout"] = 180  # per request; the module's own timeout bounds the whole copy
    if not settings.get("auth") and not settings.get("cloud"):
        return None
    return Store(settings)


def require_store(params) -> Store:
    store = store_for(params)
    if store is None:
        raise InvalidInput("auth", "object store settings are required (auth: {auth_url, username, password} as "
                                   "for the object modules, or cloud); set them once with module_defaults "
                                   "group/ministack.cloud.object_store")
    return store


class _BackupResource(Resource):
    result_key = "backup"

    def run(self, tx):  # pragma: no cover - the backup action calls execute()
        raise NotImplementedError

    def project(self, catalog):
        with catalog.read() as tx:
            return find_project(tx, self.params.get("project"))

    def _find(self, catalog, project, settle=True):
        with catalog.read() as tx:
            row = service.find_backup(tx, self.params["name"], project["id"])
        if row is not None and settle and not self.check_mode:
            row = service.settle(catalog, row, store_for(self.params))
        return row

    def _record(self, catalog, backup_id):
        with catalog.read() as tx:
            row = service.get_backup(tx, backup_id)
            return service.record(tx, row) if row else None

    def _wait(self, catalog, backup_id, timeout, moving=("creating",)):
        deadline = time.monotonic() + timeout
        while True:
            with catalog.read() as tx:
                row = service.get_backup(tx, backup_id)
                stale = row is not None and row["status"] in moving and service.is_stale(tx, backup_id)
            if row is None or row["status"] not in moving:
                return row
            if stale:
                return service.settle(catalog, row, store_for(self.params))
            if time.monotonic() > deadline:
                raise service.BackupError(f"Backup {row['name']} is still {row['status']} after {timeout} s "
                                          f"({row.get('progress') or 0}% done); wait longer or run again.")
            time.sleep(1)


class VolumeBackup(_BackupResource):
    """`openstack volume backup create/delete/set`."""

    def execute(self, catalog):
        try:
            return self._execute(catalog)
        except service.NameTaken:
            # Another run made this name between our lookup and our create (both ran at once):
            # run again, which finds that backup and reports it (waiting while it is creating).
            return self._execute(catalog)

    def _execute(self, catalog):
        p = self.params
        require_name("name", p["name"])
        timeout = require_int("timeout", p.get("timeout"), minimum=1, unit="seconds") or 3600
        metadata = string_dict("metadata", p.get("metadata"))
        project = self.project(catalog)
        row = self._find(catalog, project)
        before = self._record(catalog, row["id"]) if row else None
        state = p.get("state") or "present"
        if state == "absent":
            if row is None:
                return self.outcome(False, None, None)
            with catalog.begin(dry_run=self.check_mode) as tx:
                service.plan_delete(tx, service.get_backup(tx, row["id"]))
            if not self.check_mode:
                service.run_delete(catalog, row, require_store(p))
            return self.outcome(True, before, None)
        if p.get("status"):
            return self._reset(catalog, row, before)
        if row is not None:
            return self._existing(catalog, row, before, metadata, timeout)
        if not p.get("volume"):
            raise InvalidInput("volume", f"is required to create backup {p['name']} (name or id of the volume)")
        store = require_store(p)
        if self.check_mode:
            with catalog.begin(dry_run=True) as tx:
                plan = service.plan_create(tx, dict(p, metadata=metadata), project, timeout)
                after = service.record(tx, service.get_backup(tx, plan["backup"]["id"]))
            return self.outcome(True, None, after)
        with catalog.begin(dry_run=True) as tx:  # every check first (volume, parent, quota), nothing kept
            service.plan_create(tx, dict(p, metadata=metadata), project, timeout)
        # Then reach the object store before anything is recorded: bad credentials or a
        # missing proxy fail here with nothing made.
        store.credentials()
        store.ensure_container(p.get("container") or fmt.CONTAINER)
        if not p.get("wait", True):
            return self._detached(catalog, project, metadata, timeout)
        with catalog.begin() as tx:
            plan = service.plan_create(tx, dict(p, metadata=metadata), project, timeout)
        done = service.run_create(catalog, plan, store, timeout)
        self.warnings.extend(done["warnings"])
        self.extra["uploaded_bytes"] = done["uploaded_bytes"]
        return self.outcome(True, None, self._record(catalog, plan["backup"]["id"]))

    def _detached(self, catalog, project, metadata, timeout):
        """wait: false: a detached controller process (the cinder-backup worker) does the copy
        and records the outcome; its pid owns the backup's task, so a killed worker is settled later."""
        worker = spawn_worker()
        try:
            with catalog.begin() as tx:
                plan = service.plan_create(tx, dict(self.params, metadata=metadata), project, timeout,
                                           owner_pid=worker.pid)
        except BaseException:
            worker.kill()
            worker.wait()
            raise
        job = {"catalog": catalog.url.render_as_string(hide_password=False), "backup_id": plan["backup"]["id"],
               "params": {k: self.params.get(k) for k in STORE_KEYS}, "timeout": timeout}
        worker.stdin.write(json.dumps(job) + "\n")
        worker.stdin.close()
        return self.outcome(True, None, self._record(catalog, plan["backup"]["id"]))

    def _existing(self, catalog, row, before, metadata, timeout):
        p = self.params
        if row["status"] == "creating" and p.get("wait", True) and not self.check_mode:
            row = self._wait(catalog, row["id"], timeout)
            before = self._record(catalog, row["id"])
        if row["status"] == "error":
            raise service.BackupError(f"Backup {row['name']} is in error: {row.get('fail_reason')}. Delete it "
                                      "(state: absent) and run the task again.")
        for field, value in (("volume", p.get("volume")), ("incremental", p.get("incremental"))):
            if field == "volume" and value and value not in (row["volume_id"],):
                with catalog.read() as tx:
                    vol = service.find_volume(tx, value, row["project_id"])
                if vol is None or vol["id"] != row["volume_id"]:
                    raise InvalidInput("volume", f"backup {row['name']} is of volume {row['volume_id']}; a backup "
                                                 "cannot change volume (use another name)")
        values = {}
        if p.get("description") is not None and p["description"] != row.get("description"):
            values["description"] = p["description"]
        if metadata is not None and metadata != (row.get("metadata") or {}):
            values["metadata"] = metadata
        if not values:
            return self.outcome(False, before, before)
        with catalog.begin(dry_run=self.check_mode) as tx:
            backups = tx.t.backups
            tx.execute(update(backups).where(backups.c.id == row["id"]).values(updated_at=tx.now(), **values))
            after = service.record(tx, service.get_backup(tx, row["id"]))
        return self.outcome(True, before, after)

    def _reset(self, catalog, row, before):
        """`openstack volume backup set --state`: an admin's reset of a stuck backup."""
        wanted = self.params["status"]
        if row is None:
            raise NotFound(f"No backup with a name or ID of '{self.params['name']}' exists.")
        if row["status"] == wanted:
            return self.outcome(False, before, before)
        with catalog.begin(dry_run=self.check_mode) as tx:
            tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == row["id"]).values(
                status=wanted, updated_at=tx.now()))
            service.end_tasks(tx, row["id"])  # a stuck run's task goes with its status
            after = service.record(tx, service.get_backup(tx, row["id"]))
        return self.outcome(True, before, after)


def spawn_worker():
    """A detached controller process that waits for one job on stdin (see worker.py)."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = here[: here.rindex(os.sep + "ansible_collections" + os.sep)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    code = "from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import worker; worker.main()"
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True, env=env, close_fds=True)


class VolumeBackupInfo(_BackupResource):
    """`openstack volume backup list / show`."""

    result_key = "backups"

    def execute(self, catalog):
        project = self.project(catalog)
        service.settle_all(catalog, store_for(self.params), project["id"])
        with catalog.read() as tx:
            t = tx.t.backups
            rows = tx.all(select(t).where(t.c.project_id == project["id"]).order_by(t.c.created_at))
            if self.params.get("name"):
                rows = [r for r in rows if self.params["name"] in (r["name"], r["id"])]
            if self.params.get("volume"):
                vol = service.find_volume(tx, self.params["volume"], project["id"])
                rows = [r for r in rows if vol is not None and r["volume_id"] == vol["id"]] if vol else \
                    [r for r in rows if r["volume_id"] == self.params["volume"]]
            if self.params.get("status"):
                rows = [r for r in rows if r["status"] == self.params["status"]]
            return {"changed": False, "backups": [service.record(tx, r) for r in rows]}


class VolumeBackupRestore(_BackupResource):
    """`openstack volume backup restore <backup> <volume or new name>`."""

    result_key = "restore"

    def execute(self, catalog):
        p = self.params
        timeout = require_int("timeout", p.get("timeout"), minimum=1, unit="seconds") or 3600
        target_name = require_name("volume", p["volume"])
        project = self.project(catalog)
        with catalog.read() as tx:
            backup = service.find_backup(tx, p["backup"], project["id"])
        if backup is None:
            raise NotFound(f"No backup with a name or ID of '{p['backup']}' exists.")
        if not self.check_mode:
            backup = service.settle(catalog, backup, store_for(p))
        with catalog.read() as tx:
            volume = service.find_volume(tx, target_name, project["id"])
            if volume is not None:
                r = tx.t.backup_restores
                done = tx.one_or_none(select(r).where((r.c.backup_id == backup["id"]) & (r.c.volume_id == volume["id"])
                                                      & (r.c.status == "done")))
                if done is not None:
                    return self._result(tx, False, backup, volume)
            if backup["status"] != "available":
                raise service.BackupError(f"Invalid backup: Backup status must be available, but backup "
                                          f"{backup['name']} is {backup['status']}.")
            links = service.chain(tx, backup)
            if volume is not None:
                service.check_restore_target(volume, backup)
        store = require_store(p)
        for link in links:  # before anything is made: every metadata object must be there
            if not store.exists(link["container"] or fmt.CONTAINER, link["service_metadata"] + "_metadata"):
                raise service.BackupError(
                    f"Backup {link['name'] or link['id']} cannot be restored: its metadata object "
                    f"{link['service_metadata']}_metadata is missing from container {link['container']} "
                    "(deleted from the object store?). Nothing was changed.")
        restore_id = str(uuid.uuid4())
        volume_resource = None
        if volume is None:
            from ..block.volumes import Volume

            volume_resource = Volume({"name": target_name, "size": backup["size"],
                                      "description": f"restored from backup {backup['name'] or backup['id']}",
                                      "project": p.get("project")}, check_mode=self.check_mode,
                                     context=self.context)
            volume_resource.measure(catalog)  # the block hosts' free space, with no lock held
        try:
            with catalog.begin(dry_run=self.check_mode) as tx:
                if volume is None:
                    volume_resource.run(tx)
                    volume = service.find_volume(tx, target_name, project["id"])
                else:
                    volume = service.find_volume(tx, volume["id"], project["id"])
                    service.check_restore_target(volume, backup)
                row = service.get_backup(tx, backup["id"])
                if row["status"] != "available":
                    raise service.BackupError(f"Invalid backup: Backup status must be available, but backup "
                                              f"{backup['name']} is {row['status']}.")
                now = tx.now()
                tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
                    status="restoring-backup", updated_at=now))
                tx.execute(update(tx.t.backups).where(tx.t.backups.c.id == backup["id"]).values(
                    status="restoring", progress=0, bytes_done=0, updated_at=now))
                tx.execute(insert(tx.t.backup_restores), {"id": restore_id, "backup_id": backup["id"],
                                                          "volume_id": volume["id"], "status": "restoring",
                                                          "created_at": now})
                abandon = [
                    {"table": "backups", "id": backup["id"], "values": {"status": "available"}},
                    {"table": "backup_restores", "id": restore_id,
                     "values": {"status": "error", "fail_reason": "{reason}"}},
                    {"table": "volumes", "id": volume["id"], "values": {"status": "error_restoring"}},
                ]
                service.begin_task(tx, backup["id"], "restoring", abandon, timeout)
                if self.check_mode:
                    return self._result(tx, True, backup, volume)
        except BaseException as err:
            failures = volume_resource.rolled_back() if volume_resource is not None else []
            if failures and isinstance(err, Exception):
                raise service.BackupError(f"{err}. Undoing it failed too: {'; '.join(failures)}") from err
            raise
        if volume_resource is not None:
            from ..workflow import run_job

            try:
                for job in volume_resource.jobs:  # the new volume's LV, made with no catalog lock held
                    run_job(catalog, job)
            except Exception as err:
                service.end_restore(catalog, backup["id"], restore_id, f"the new volume could not be made: {err}")
                raise
        service.run_restore(catalog, backup, links, volume, restore_id, store, timeout)
        with catalog.read() as tx:
            return self._result(tx, True, service.get_backup(tx, backup["id"]), volume)

    def _result(self, tx, changed, backup, volume):
        from ..block.records import volume_record

        vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]))
        return {"changed": changed,
                "restore": {"backup_id": backup["id"], "volume_id": volume["id"], "volume_name": volume["name"]},
                "volume": volume_record(tx, vol) if vol else None}


class VolumeBackupRecord(_BackupResource):
    """`openstack volume backup record export / import`."""

    result_key = "backup"

    def execute(self, catalog):
        p = self.params
        project = self.project(catalog)
        if p.get("backup"):
            with catalog.read() as tx:
                row = service.find_backup(tx, p["backup"], project["id"])
                if row is None:
                    raise NotFound(f"No backup with a name or ID of '{p['backup']}' exists.")
                if row["status"] != "available":
                    raise service.BackupError(f"Invalid backup: Backup status must be available, but backup "
                                              f"{row['name']} is {row['status']}.")
                return {"changed": False, "backup": service.record(tx, row), **service.export_record(row)}
        data = service.decode_import(p.get("backup_service"), p.get("backup_url") or "")
        with catalog.begin(dry_run=self.check_mode) as tx:
            row = service.get_backup(tx, data["id"])
            if row is not None:
                return {"changed": False, "backup": service.record(tx, row)}
            from ..catalog.quotas import check as check_quota

            check_quota(tx, project["id"], backups=1, backup_gigabytes=int(data["size"]))
            now = tx.now()
            created = _parse_time(data.get("created_at")) or now
            tx.execute(insert(tx.t.backups), {
                "id": data["id"], "name": data.get("name") or data.get("display_name"), "project_id": project["id"],
                "volume_id": data["volume_id"], "snapshot_id": data.get("snapshot_id"),
                "parent_id": data.get("parent_id"), "is_incremental": bool(data.get("is_incremental")),
                "size": int(data["size"]), "status": "available", "availability_zone": data.get("availability_zone"),
                "container": data.get("container") or fmt.CONTAINER, "service_metadata": data["service_metadata"],
                "object_count": int(data.get("object_count") or 0), "description": data.get("description"),
                "data_timestamp": _parse_time(data.get("data_timestamp")) or created, "created_at": created,
                "compression": data.get("compression"), "metadata": data.get("metadata") or {},
                "cleanup_pending": False,
            })
            return {"changed": True, "backup": service.record(tx, service.get_backup(tx, data["id"]))}


def _parse_time(text):
    from datetime import datetime

    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        return None


def check_failed(err) -> str:
    return str(err) if isinstance(err, CatalogError) else f"{type(err).__name__}: {err}"
