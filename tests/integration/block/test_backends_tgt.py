"""Backends and the tgt helper for real: bytes written through QEMU's iSCSI client (with CHAP)
land in the LV (on the PV) or the sparse file, and nothing is left behind on failure."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import targets
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError, InvalidInput
from fixtures.block.iscsi import qemu_io, qemu_url


def _export(tgt, backend, name):
    vid = str(uuid.uuid4())
    user, secret = targets.generate_chap()
    tgt.made.append(vid)
    info = tgt.export(vid, backend.path(name), user, secret, initiator_addresses=["127.0.0.1"])
    return vid, info, user, secret


def test_lvm_volume_round_trip_through_iscsi(lvm, tgt):
    backend, _env = lvm
    assert backend.thin is False  # no dm thin-pool here: lvm_type auto falls back to thick
    before = backend.capacity()
    backend.create("volume-a", 1)
    assert backend.exists("volume-a")
    assert backend.size_bytes("volume-a") == 1024**3
    after = backend.capacity()
    assert round(before["free_capacity_gb"] - after["free_capacity_gb"]) == 1
    vid, info, user, secret = _export(tgt, backend, "volume-a")
    url = qemu_url(info, user, secret)
    res = qemu_io(url, "write -P 0xab 1M 64k")
    assert res.returncode == 0, res.stderr
    # The bytes are on the PV at the LV's extents: read them back through the LV path.
    with open(backend.path("volume-a"), "rb") as dev:
        dev.seek(1024 * 1024)
        assert dev.read(65536) == b"\xab" * 65536
    # Wrong CHAP secret: refused.
    bad = qemu_io(qemu_url(info, user, "x" * 20), "read 0 512")
    assert bad.returncode != 0 or "Failed" in bad.stderr + bad.stdout
    # Thick snapshot (point in time) and a volume made from it carry the same bytes.
    backend.snapshot("volume-a", "snapshot-s", 1)
    backend.create_from_snapshot("snapshot-s", "volume-b", 2)
    assert backend.size_bytes("volume-b") == 2 * 1024**3
    with open(backend.path("volume-b"), "rb") as dev:
        dev.seek(1024 * 1024)
        assert dev.read(65536) == b"\xab" * 65536
    tgt.unexport(vid)
    assert tgt.show(vid) is None
    backend.delete_snapshot("snapshot-s")
    backend.delete("volume-b")
    backend.extend("volume-a", 2)
    assert backend.size_bytes("volume-a") == 2 * 1024**3
    backend.delete("volume-a")
    assert not backend.exists("volume-a")


def test_lvm_size_that_does_not_fit_leaves_nothing(lvm):
    backend, _ = lvm
    with pytest.raises(InvalidInput, match=r"Insufficient free space for volume creation on host \(requested / avail\): 50/"):
        backend.create("volume-big", 50)
    assert not backend.exists("volume-big")


def test_file_backend_snapshot_is_point_in_time(file_backend, tgt):
    backend = file_backend
    backend.create("volume-f", 1)
    _vid, info, user, secret = _export(tgt, backend, "volume-f")
    url = qemu_url(info, user, secret)
    assert qemu_io(url, "write -P 0x11 0 64k").returncode == 0
    backend.snapshot("volume-f", "snapshot-f", 1)
    assert qemu_io(url, "write -P 0x22 0 64k").returncode == 0
    with open(backend.path("snapshot-f"), "rb") as f:
        assert f.read(65536) == b"\x11" * 65536
    with open(backend.path("volume-f"), "rb") as f:
        assert f.read(65536) == b"\x22" * 65536
    # Sparse: a 1 GiB volume with 64 KiB written uses about 64 KiB.
    used = int(subprocess.run(["du", "-B1", backend.path("snapshot-f")], capture_output=True, text=True).stdout.split()[0])
    assert used < 1024 * 1024


def test_tgt_export_is_persisted_and_idempotent(file_backend, tgt):
    file_backend.create("volume-p", 1)
    vid, info, user, secret = _export(tgt, file_backend, "volume-p")
    conf = open(tgt.conf_path(vid)).read()
    assert f"<target {info['target_iqn']}>" in conf and "initiator-address 127.0.0.1" in conf
    tid = tgt.show(vid)["tid"]
    again = tgt.export(vid, file_backend.path("volume-p"), user, secret, initiator_addresses=["127.0.0.1"])
    assert again["provider_location"] == info["provider_location"] and tgt.show(vid)["tid"] == tid
    # After a tgtd restart, tgt-admin --update from the persisted file brings it back.
    subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "delete", "--force", "--mode", "target", "--tid", str(tid)],
                   check=True)
    assert tgt.show(vid) is None
    subprocess.run(["tgt-admin", "-c", tgt.conf_path(vid), "--update", info["target_iqn"]], check=True,
                   capture_output=True)
    shown = tgt.show(vid)
    assert shown and shown["acl"] == ["127.0.0.1"] and shown["accounts"] == [user]


def test_tgt_export_of_missing_backing_file_leaves_nothing(tgt, tmp_path):
    vid = str(uuid.uuid4())
    user, secret = targets.generate_chap()
    with pytest.raises(BlockError):
        tgt.export(vid, str(tmp_path / "nope"), user, secret, initiator_addresses=["127.0.0.1"])
    assert tgt.show(vid) is None
    assert not (tmp_path / "conf.d" / f"ministack-volume-{vid}.conf").exists()
    accounts = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "account"],
                              capture_output=True, text=True).stdout
    assert user not in accounts
