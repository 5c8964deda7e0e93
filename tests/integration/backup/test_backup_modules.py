"""volume_backup, volume_backup_info, volume_backup_restore and volume_backup_record through
ansible-playbook on a file-backend block host and the machine's Swift: check mode, idempotence,
incremental chains, restore (new and existing volume, run twice), export/import into a second
catalog, state reset, quotas with Cinder's messages, cinder-backup service rows, wait: false
with progress, forced backups of in-use volumes through a temporary snapshot, and no secret in
any output."""

from __future__ import annotations

import sqlite3
import time

import pytest
from conftest import fill, sha256_of

# Not in the test command yet: on the shared machine its runs were cut by other suites (the Swift
# functional tests empty the test account's containers; the proxy was redeployed). Its first 16
# steps passed (create, check mode, idempotence, set, info, in-use refused then forced through a
# temporary snapshot, delete refused with a child, restore into a new volume twice).
pytestmark = pytest.mark.full


def set_status(play, table, name, status):
    with sqlite3.connect(play.tmp / "catalog.db") as db:
        db.execute(f"UPDATE {table} SET status = ? WHERE name = ?", (status, name))


def files(play):
    return sorted(p.name for p in play.directory.iterdir())


def test_backup_restore_lifecycle(cloud):
    vol = cloud("volume", name="v1", size=1).result["volume"]
    path = cloud.directory / f"volume-{vol['id']}"
    state1 = fill(path, [3, 200], seed=11)
    c = cloud.container
    check = cloud("volume_backup", check=True, name="b1", volume="v1", container=c)
    assert check.ok and check.result["changed"] is True and check.result["backup"]["status"] == "creating"
    assert cloud.swift.listing(c) == [] and cloud("volume_backup_info").result["backups"] == []
    b1 = cloud("volume_backup", diff=True, name="b1", volume="v1", container=c, description="first")
    assert b1.ok, b1.result.get("msg")
    assert b1.result["backup"]["status"] == "available" and b1.result["diff"]["before"] == {}
    assert cloud.swift.key not in b1.stdout + b1.stderr and cloud.swift.token not in b1.stdout
    again = cloud("volume_backup", name="b1", volume="v1", container=c, description="first")
    assert again.ok and again.result["changed"] is False
    renamed = cloud("volume_backup", name="b1", description="second")
    assert renamed.ok and renamed.result["changed"] is True and renamed.result["backup"]["description"] == "second"
    shown = cloud("volume_backup_info", name="b1").result["backups"][0]
    for key in ("availability_zone", "container", "created_at", "data_timestamp", "description", "fail_reason",
                "has_dependent_backups", "id", "is_incremental", "name", "object_count", "size", "snapshot_id",
                "status", "updated_at", "volume_id"):
        assert key in shown, key
    assert shown["object_count"] == 21 and shown["has_dependent_backups"] is False
    assert files(cloud) == [f"volume-{vol['id']}"]

    # forced backup of an in-use volume: a temporary snapshot, gone afterwards
    state2 = fill(path, [5], seed=12)
    set_status(cloud, "volumes", "v1", "in-use")
    refused = cloud("volume_backup", name="b2", volume="v1", container=c, incremental=True)
    assert not refused.ok and "Backing up an in-use volume must use the force flag" in refused.result["msg"]
    b2 = cloud("volume_backup", name="b2", volume="v1", container=c, incremental=True, force=True)
    assert b2.ok, b2.result.get("msg")
    assert b2.result["backup"]["is_incremental"] and b2.result["backup"]["parent_id"] == b1.result["backup"]["id"]
    assert files(cloud) == [f"volume-{vol['id']}"]  # no temporary snapshot left
    assert cloud("volume", name="v1").result["volume"]["status"] == "in-use"
    blocked = cloud("volume_backup", name="b1", state="absent")
    assert not blocked.ok and "Incremental backups exist for this backup." in blocked.result["msg"]
    assert cloud("volume_backup_info", name="b1").result["backups"][0]["has_dependent_backups"] is True

    # restore the chain into a new volume, twice
    restored = cloud("volume_backup_restore", backup="b2", volume="v1-restored")
    assert restored.ok, restored.result.get("msg")
    new = restored.result["volume"]
    assert new["status"] == "available" and new["size"] == 1
    assert sha256_of(cloud.directory / f"volume-{new['id']}") == state2
    assert cloud("volume_backup_restore", backup="b2", volume="v1-restored").result["changed"] is False
    # into an existing available volume of enough size: b1's bytes
    assert cloud("volume", name="v3", size=1).ok
    into = cloud("volume_backup_restore", backup="b1", volume="v3")
    assert into.ok and into.result["changed"] is True
    assert sha256_of(cloud.directory / f"volume-{into.result['volume']['id']}") == state1

    listed = cloud("volume_backup_info")
    assert [r["name"] for r in listed.result["backups"]] == ["b1", "b2"]
    assert "table" not in listed.result, "CLI tables are the cli_table filter's job"

    # export, then import into another catalog with its own block host, and restore there
    exported = cloud("volume_backup_record", backup="b1")
    assert exported.ok and exported.result["changed"] is False
    assert exported.result["backup_service"] == "cinder.backup.drivers.swift.SwiftBackupDriver"
    other = str(cloud.tmp / "other.db")
    other_dir = cloud.tmp / "other-vols"
    other_dir.mkdir()
    assert cloud("volume_service", catalog=other, host="localhost@file", backend="file",
                 backend_config={"file_directory": str(other_dir), "file_capacity_gib": 5}).ok
    imported = cloud("volume_backup_record", catalog=other, backup_service=exported.result["backup_service"],
                     backup_url=exported.result["backup_url"])
    assert imported.ok and imported.result["changed"] is True and imported.result["backup"]["status"] == "available"
    assert cloud("volume_backup_record", catalog=other, backup_service=exported.result["backup_service"],
                 backup_url=exported.result["backup_url"]).result["changed"] is False
    there = cloud("volume_backup_restore", catalog=other, backup="b1", volume="from-export")
    assert there.ok, there.result.get("msg")
    assert sha256_of(other_dir / f"volume-{there.result['volume']['id']}") == state1

    # an admin's state reset
    reset = cloud("volume_backup", name="b2", status="error")
    assert reset.ok and reset.result["changed"] and reset.result["backup"]["status"] == "error"
    assert cloud("volume_backup", name="b2", status="error").result["changed"] is False
    assert cloud("volume_backup", name="b2", status="available").result["backup"]["status"] == "available"

    # delete: child first, then the parent; their objects go
    set_status(cloud, "volumes", "v1", "available")
    assert cloud("volume_backup", name="b2", state="absent", check=True).result["changed"] is True
    assert cloud("volume_backup", name="b2", state="absent").result["changed"] is True
    assert cloud("volume_backup", name="b1", state="absent").result["changed"] is True
    assert cloud("volume_backup", name="b1", state="absent").result["changed"] is False
    assert cloud.swift.listing(c) == []


def test_quotas_services_and_wait_false(cloud):
    c = cloud.container
    assert cloud("volume", name="q1", size=1).ok
    services = cloud("volume_service_info").result["backup_services"]
    assert {"binary": "cinder-backup", "host": "localhost"} in [{k: r[k] for k in ("binary", "host")}
                                                                for r in services]
    started = cloud("volume_backup", name="w1", volume="q1", container=c, wait=False)
    assert started.ok and started.result["backup"]["status"] == "creating"
    seen = []
    for _ in range(120):
        row = cloud("volume_backup_info", name="w1").result["backups"][0]
        seen.append((row["status"], row["progress"], row["bytes_done"]))
        if row["status"] != "creating":
            break
        time.sleep(0.5)
    assert row["status"] == "available" and row["bytes_done"] == 1024**3, seen
    quota = cloud("quota", backups=1)
    assert quota.ok, quota.result.get("msg")
    over = cloud("volume_backup", name="w2", volume="q1", container=c)
    assert not over.ok and over.result["msg"] == "Maximum number of backups allowed (1) exceeded"
    assert cloud("quota", backups=10, backup_gigabytes=1).ok
    over = cloud("volume_backup", name="w2", volume="q1", container=c)
    assert over.result["msg"] == ("Requested backup exceeds allowed Backup gigabytes quota. Requested 1G, quota is "
                                  "1G and 1G has been consumed.")
    assert len(cloud("volume_backup_info").result["backups"]) == 1
    assert cloud("volume_backup", name="w1", state="absent").ok
