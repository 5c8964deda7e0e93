"""Issue 13 item 4 on a real LVM VG (loop PV, activation stand-in): a thick LV whose zeroing fails
is not removed, and deleting a thick snapshot clears its copy-on-write data."""

from __future__ import annotations

import os
import subprocess

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import backends, runner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError

PATTERN = b"tenant-A-private-" * 64


@pytest.fixture
def zeroing(lvm):
    backend, env = lvm
    if backend.thin:
        pytest.skip("thin LVs are not zeroed")
    # Cinder's volume_clear=zero; volume_clear_size keeps the test fast (the pattern is at the start).
    return backends.LVMBackend(runner.LocalRunner(env=env["env"]), volume_group=backend.vg, lvm_type="default",
                               volume_clear="zero", volume_clear_size_mib=4), env


def _loop(path):
    return os.path.realpath(path)


def _write_pattern(device):
    with open(device, "r+b") as fh:
        fh.write(PATTERN)
        fh.flush()
        os.fsync(fh.fileno())


def test_failed_zeroing_keeps_the_volume(zeroing):
    backend, _env = zeroing
    backend.create("volume-keep", 1)
    device = _loop(backend.path("volume-keep"))
    subprocess.run(["blockdev", "--setro", device], check=True)
    try:
        with pytest.raises(BlockError, match="was not deleted: zeroing it failed"):
            backend.delete("volume-keep")
        assert backend.exists("volume-keep"), "the LV was removed although its data was not wiped"
    finally:
        subprocess.run(["blockdev", "--setrw", device], check=True)
    backend.delete("volume-keep")
    assert not backend.exists("volume-keep")


def test_snapshot_delete_clears_copy_on_write_data(zeroing):
    backend, env = zeroing
    # An 8 MiB origin made with lvcreate directly (the backend speaks GiB): the stand-in's thick
    # snapshot copies the origin, and 1 GiB of copying would take most of a minute here.
    backend.runner.run(["lvcreate", "--yes", "-L", "8m", "-n", "volume-snapped", "--alloc", "contiguous",
                        backend.vg])
    _write_pattern(backend.path("volume-snapped"))
    backend.snapshot("volume-snapped", "snapshot-s1", 1)
    snap_loop = _loop(backend.path("snapshot-s1"))
    offset = int(subprocess.run(["losetup", "--noheadings", "-O", "OFFSET", snap_loop], capture_output=True,
                                text=True, check=True).stdout.strip())
    with open(env["pv"], "rb") as pv:  # the PV device (its page cache holds the latest writes)
        pv.seek(offset)
        assert pv.read(len(PATTERN)) == PATTERN  # the snapshot's data holds the old blocks
    backend.delete_snapshot("snapshot-s1")
    assert not backend.exists("snapshot-s1")
    with open(env["pv"], "rb") as pv:  # the PV device (its page cache holds the latest writes)
        pv.seek(offset)
        assert pv.read(len(PATTERN)) != PATTERN, "the snapshot's old blocks are still on the PV"
    backend.delete("volume-snapped")
