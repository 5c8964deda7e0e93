"""Bad input: each gets one clear message and leaves nothing half-made (no temporary snapshot,
no stray object, no backup stuck in creating, no restored volume made for nothing)."""

from __future__ import annotations

import socket
import sqlite3
import threading
import urllib.parse
import zlib

import pytest
from conftest import fill

pytestmark = pytest.mark.slow


def backups_in_catalog(play):
    with sqlite3.connect(play.tmp / "catalog.db") as db:
        return db.execute("SELECT name, status FROM backups ORDER BY name").fetchall()


def volume_names(play):
    with sqlite3.connect(play.tmp / "catalog.db") as db:
        return sorted(r[0] for r in db.execute("SELECT name FROM volumes"))


def test_missing_volume_and_incremental_without_parent(cloud):
    missing = cloud("volume_backup", name="x1", volume="nope", container=cloud.container)
    assert not missing.ok and missing.result["msg"] == "No volume with a name or ID of 'nope' exists."
    assert cloud("volume", name="lonely", size=1).ok
    orphan = cloud("volume_backup", name="x2", volume="lonely", container=cloud.container, incremental=True)
    assert not orphan.ok
    assert orphan.result["msg"].startswith("Invalid backup: No backups available to do an incremental backup.")
    no_volume = cloud("volume_backup", name="x3", container=cloud.container)
    assert not no_volume.ok and no_volume.result["msg"].startswith("volume: is required")
    assert backups_in_catalog(cloud) == [] and cloud.swift.listing(cloud.container) == []


def test_restore_refusals_and_damaged_store(cloud):
    c = cloud.container
    big = cloud("volume", name="big", size=2).result["volume"]
    fill(cloud.directory / f"volume-{big['id']}", [1, 1500], seed=5)
    made = cloud("volume_backup", name="bb", volume="big", container=c)
    assert made.ok, made.result.get("msg")
    backup = made.result["backup"]
    assert cloud("volume", name="small", size=1).ok
    small = cloud("volume_backup_restore", backup="bb", volume="small")
    assert not small.ok
    assert small.result["msg"].startswith("Invalid volume: volume size 1 is too small to restore backup of size 2.")
    assert cloud("volume", name="busy", size=2).ok
    with sqlite3.connect(cloud.tmp / "catalog.db") as db:
        db.execute("UPDATE volumes SET status = 'in-use' WHERE name = 'busy'")
    busy = cloud("volume_backup_restore", backup="bb", volume="busy")
    assert not busy.ok and busy.result["msg"].startswith("Invalid volume: Volume to be restored to must be available")
    before = volume_names(cloud)

    # a damaged object: md5 checked, the object named, the target left error_restoring
    prefix = backup["service_metadata"]
    name = f"{prefix}-00001"  # holds the random MiB at offset 1 MiB
    # same length once decompressed, other bytes: only the md5 tells
    cloud.swift.request("PUT", f"/{c}/{urllib.parse.quote(name)}", data=zlib.compress(bytes(50 * 1024 * 1024)))
    assert cloud("volume", name="target", size=2).ok
    damaged = cloud("volume_backup_restore", backup="bb", volume="target")
    assert not damaged.ok and name in damaged.result["msg"] and "md5" in damaged.result["msg"]
    assert cloud("volume", name="target").result["volume"]["status"] == "error_restoring"
    assert cloud("volume_backup_info", name="bb").result["backups"][0]["status"] == "available"

    # an object more than the metadata lists: Cinder's abort
    cloud.swift.request("PUT", f"/{c}/{urllib.parse.quote(prefix + '-00099')}", data=b"stray")
    assert cloud("volume", name="target2", size=2).ok
    extra = cloud("volume_backup_restore", backup="bb", volume="target2")
    assert not extra.ok
    assert "restore_backup aborted, actual object list does not match object list stored in metadata" in \
        extra.result["msg"]

    # the metadata object deleted from the store: refused before anything is made
    cloud.swift.delete(c, prefix + "_metadata")
    before = volume_names(cloud)
    gone = cloud("volume_backup_restore", backup="bb", volume="never-made")
    assert not gone.ok and f"{prefix}_metadata is missing from container {c}" in gone.result["msg"]
    assert volume_names(cloud) == before


class Relay:
    """A TCP relay in front of the proxy, standing for the proxy as the block host sees it;
    ``stop()`` closes it and every connection (the proxy stopped mid-backup)."""

    def __init__(self, target=("127.0.0.1", 8080), stop_after=None):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = target
        self.stop_after = stop_after
        self.sent = 0
        self.sockets = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, counted):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if counted:
                    self.sent += len(data)
                    if self.stop_after and self.sent > self.stop_after:
                        self.stop()
                        return
        except OSError:
            pass

    def stop(self):
        self.stopped.set()
        for s in [self.server, *self.sockets]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_object_store_unreachable_mid_backup(cloud):
    vol = cloud("volume", name="vx", size=1).result["volume"]
    fill(cloud.directory / f"volume-{vol['id']}", range(0, 400, 2), seed=9)  # 200 MiB that does not compress
    relay = Relay(stop_after=120 * 1024 * 1024)
    storage = urllib.parse.urlsplit(cloud.swift.url)
    try:
        cut = cloud("volume_backup", name="cut", volume="vx", container=cloud.container, compression="none",
                    swift_url=f"http://127.0.0.1:{relay.port}{storage.path}")
    finally:
        relay.stop()
    assert relay.sent > 0
    assert not cut.ok and cut.result["msg"].startswith("Backup cut failed:"), cut.result
    row = cloud("volume_backup_info", name="cut").result["backups"][0]
    assert row["status"] == "error" and row["fail_reason"]
    assert cloud.swift.listing(cloud.container) == []  # the partial objects are gone
    assert sorted(p.name for p in cloud.directory.iterdir()) == [f"volume-{vol['id']}"]
    assert cloud("volume", name="vx").result["volume"]["status"] == "available"
    assert cloud("volume_backup", name="cut", state="absent").ok
