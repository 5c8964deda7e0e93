"""Issue 13, faults: the catalog's disk full (a small tmpfs). Creates fail with one clean
message (no traceback), nothing half-written is kept, the catalog stays readable, and once
there is room again the same task succeeds."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from tests.helpers.inproc import call


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory):
    """Take every free byte of the file system."""
    subprocess.run(["dd", "if=/dev/zero", f"of={directory / 'filler'}", "bs=4k"], capture_output=True, check=False)


def test_a_full_catalog_disk_gives_clean_errors_and_stays_readable(small_disk):
    tv = {"ministack_catalog": str(small_disk / "catalog.db")}
    for i in range(3):
        made = call("flavor", {"name": f"full-{i}", "ram": 64, "vcpus": 1, "disk": 1}, tv)
        assert not made.get("failed"), made
    _fill(small_disk)
    failures = []
    for i in range(3, 8):
        result = call("flavor", {"name": f"full-{i}", "ram": 64, "vcpus": 1, "disk": 1,
                                 "extra_specs": {f"k{j}": "v" * 200 for j in range(40)}}, tv)
        if result.get("failed"):
            failures.append(result["msg"])
    assert failures, "nothing failed on a full disk"
    for msg in failures:  # one line, naming the catalog and the cause
        assert "\n" not in msg and "Traceback" not in msg, msg
        assert msg.startswith("Catalog ") and "is full" in msg and "Free some space and retry" in msg, msg
    # Reading goes on while the disk is full (SQLite cannot make its WAL index there: the
    # catalog reads the file as immutable, exact once its last writer checkpointed the WAL)
    listed = call("flavor_info", {}, tv)
    assert not listed.get("failed"), listed
    assert {"full-0", "full-1", "full-2"} <= {f["name"] for f in listed["flavors"]}
    os.unlink(small_disk / "filler")
    with sqlite3.connect(f"file:{tv['ministack_catalog']}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    listed = call("flavor_info", {}, tv)
    assert not listed.get("failed"), listed
    names = sorted(f["name"] for f in listed["flavors"] if f["name"].startswith("full-"))
    assert names[:3] == ["full-0", "full-1", "full-2"] and len(names) == 3 + 5 - len(failures), names
    again = call("flavor", {"name": "full-9", "ram": 64, "vcpus": 1, "disk": 1}, tv)
    assert not again.get("failed") and again["changed"], again
