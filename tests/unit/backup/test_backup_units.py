"""Backup library pieces that need no object store: names, records, tasks, cinder-backup
rows, and the host program's error path through the real local runner (argv carries no secret)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import fmt, hostjob, service
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.services import backup_service_records
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import runner


def test_prefix_and_constants_are_cinders():
    when = datetime(2026, 12, 2, 8, 3, 25)
    assert fmt.prefix("v-1", when, "nova", "b-2") == "volume_v-1/20261202080325/az_nova_backup_b-2"
    assert (fmt.CONTAINER, fmt.CHUNK_SIZE, fmt.BLOCK_SIZE) == ("volumebackups", 52428800, 32768)
    assert fmt.CHUNK_SIZE % fmt.BLOCK_SIZE == 0
    assert -(-1024**3 // fmt.CHUNK_SIZE) == 21  # object_count of a 1 GiB full backup


def test_record_round_trip_and_bad_imports():
    row = {"id": "b", "name": "n", "volume_id": "v", "size": 1, "service_metadata": "p", "container": "c",
           "created_at": datetime(2026, 1, 1), "data_timestamp": None}
    out = service.export_record(row)
    assert out["backup_service"] == fmt.SERVICE
    assert service.decode_import(out["backup_service"], out["backup_url"])["service_metadata"] == "p"
    with pytest.raises(service.InvalidInput, match=r"^backup_service: must be"):
        service.decode_import("cinder.backup.drivers.nfs", out["backup_url"])
    with pytest.raises(service.InvalidInput, match=r"^backup_url: is not a backup record"):
        service.decode_import(fmt.SERVICE, "%%%")


def _catalog_with_volume(tmp_path):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volume_services import VolumeService
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import Volume
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
    from ansible_collections.ministack.cloud.plugins.plugin_utils.workflow import execute

    vols = tmp_path / "vols"
    vols.mkdir()
    catalog = open_catalog(f"sqlite:///{tmp_path}/catalog.db")
    execute(catalog, VolumeService({"host": "localhost@file", "backend": "file", "backend_config": {
        "file_directory": str(vols), "file_capacity_gib": 2}}), False)
    execute(catalog, Volume({"name": "v1", "size": 1}), False)
    return catalog


def test_a_killed_create_is_settled_by_the_cores_task(tmp_path):
    """A backup's host work is a task of the core (catalog/tasks.py): owned by the process that
    planned it (or the detached worker), and when that process is gone the core's settle makes
    the backup error + cleanup_pending and gives the volume back."""
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import tasks
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.projects import find_project

    catalog = _catalog_with_volume(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with catalog.begin() as tx:
        project = find_project(tx, None)
        plan = service.plan_create(tx, {"name": "b1", "volume": "v1"}, project, 60, owner_pid=os.getpid())
        backup_id = plan["backup"]["id"]
        assert not service.is_stale(tx, backup_id)  # this process owns it and runs
        task = service.task_of(tx, backup_id)
        assert (task["kind"], task["action"], task["owner_pid"]) == ("backup", "creating", os.getpid())
        volume = tx.one_or_none(service.select(tx.t.volumes).where(tx.t.volumes.c.name == "v1"))
        assert volume["status"] == "backing-up"
        tx.execute(service.update(tx.t.tasks).where(tx.t.tasks.c.id == task["id"]).values(owner_pid=dead.pid))
        assert service.is_stale(tx, backup_id)
    assert any("creating was interrupted" in why for why in tasks.settle_stale(catalog))
    with catalog.read() as tx:
        row = service.get_backup(tx, backup_id)
        volume = tx.one_or_none(service.select(tx.t.volumes).where(tx.t.volumes.c.name == "v1"))
        assert service.task_of(tx, backup_id) is None
    assert (row["status"], row["cleanup_pending"], volume["status"]) == ("error", True, "available")
    assert "that process is gone" in row["fail_reason"]


def test_cinder_backup_rows_one_per_node():
    rows = backup_service_records([
        {"binary": "cinder-volume", "host": "h1@lvm", "zone": "az1", "status": "enabled", "state": "up",
         "updated_at": "t"},
        {"binary": "cinder-volume", "host": "h1@file", "zone": "az1", "status": "enabled", "state": "down",
         "updated_at": "t"},
        {"binary": "cinder-volume", "host": "h2@lvm", "zone": "nova", "status": "enabled", "state": "down",
         "updated_at": "t"},
    ])
    assert [(r["binary"], r["host"], r["zone"], r["state"]) for r in rows] == [
        ("cinder-backup", "h1", "az1", "up"), ("cinder-backup", "h2", "nova", "down")]


def test_host_program_failure_is_one_line_and_the_token_stays_off_argv(tmp_path):
    volume = tmp_path / "vol"
    volume.write_bytes(os.urandom(65536))
    job = {"action": "backup", "storage_url": "http://127.0.0.1:9/v1/AUTH_x", "token": "SECRET-TOKEN-123",
           "container": "c", "prefix": "volume_v/20260101000000/az_nova_backup_b", "chunk_size": 32768,
           "block_size": 32768, "compression": "zlib", "size_bytes": 65536, "source_path": str(volume),
           "parent_prefix": None, "header": {"backup_id": "b", "volume_id": "v", "created_at": "x"}}
    seen = []

    class Spy(runner.LocalRunner):
        def stream(self, argv, on_line, **kw):
            seen.append(list(argv))
            return super().stream(argv, on_line, **kw)

    with pytest.raises(hostjob.HostJobFailed) as err:
        hostjob.run(Spy(), job, timeout=60)
    assert "PUT volume_v/20260101000000/az_nova_backup_b-00001" in str(err.value)
    assert "SECRET-TOKEN-123" not in str(err.value) and "SECRET-TOKEN-123" not in " ".join(seen[0])
    assert seen[0][:3] == ["python3", "-u", "-c"]
