"""A volume exported by tgt with CHAP reaches a real guest as /dev/vdb through libvirt's iSCSI
network disk (QEMU's libiscsi, no kernel initiator): format, write, detach, attach to a second
server, read the same file. One guest runs at a time (2 shared cores)."""

from __future__ import annotations

import pathlib
import shutil
import tempfile
import time
import uuid

import libvirt
import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import attach, targets
from fixtures.block import guest as guests

pytestmark = [pytest.mark.vm, pytest.mark.slow]


@pytest.fixture(scope="module")
def conn():
    c = libvirt.open("qemu:///system")
    guests.ensure_network(c)
    yield c
    guests.remove_network(c)
    c.close()


@pytest.fixture
def vm_dir():
    # QEMU runs as libvirt-qemu: guest files live where it may read them.
    path = pathlib.Path(tempfile.mkdtemp(prefix="msblk-", dir="/var/lib/libvirt/images"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _wait_in_guest(guest, command, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if guest.ssh(command, check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{command!r} never succeeded in {guest.name}")


def test_attach_format_detach_reattach_elsewhere(conn, file_backend, tgt, tmp_path, vm_dir):
    key, pub = guests.keypair(tmp_path)
    vid = str(uuid.uuid4())
    file_backend.create(f"volume-{vid}", 1)
    user, secret = targets.generate_chap()
    initiator = attach.initiator_name("localhost")
    tgt.made.append(vid)
    info = tgt.export(vid, file_backend.path(f"volume-{vid}"), user, secret,
                      initiator_names=[initiator], initiator_addresses=["127.0.0.1"])
    attacher = attach.LibvirtAttacher(conn=conn)
    first = guests.Guest(conn, f"msblk-a-{vid[:6]}", 1, vm_dir, pub, key)
    try:
        first.start().wait_ready()
        assert "vdb" not in first.ssh("ls /dev").stdout
        device = attacher.attach(first.name, vid, info, secret, initiator=initiator)
        assert device == "/dev/vdb"
        # The domain XML names the secret by usage only: the CHAP secret is not in it.
        xml = first.dom.XMLDesc(0)
        assert secret not in xml and f"usage='ministack-volume-{vid}'" in xml.replace('"', "'")
        _wait_in_guest(first, "test -b /dev/vdb")
        first.ssh("mkfs.ext4 -q /dev/vdb && mkdir -p /mnt/v && mount /dev/vdb /mnt/v && "
                  "echo hello-from-a > /mnt/v/proof && sync && umount /mnt/v")
        assert tgt.show(vid)["sessions"] == 1
        assert attacher.detach(first.name, vid) == "/dev/vdb"
        _wait_in_guest(first, "! test -e /dev/vdb")
        assert not attacher.secret_exists(vid)
    finally:
        first.destroy()
    second = guests.Guest(conn, f"msblk-b-{vid[:6]}", 2, vm_dir, pub, key)
    try:
        second.start().wait_ready()
        device = attacher.attach(second.name, vid, info, secret, initiator=initiator)
        assert device == "/dev/vdb"
        _wait_in_guest(second, "test -b /dev/vdb")
        out = second.ssh("mkdir -p /mnt/v && mount /dev/vdb /mnt/v && cat /mnt/v/proof && umount /mnt/v").stdout
        assert out.strip() == "hello-from-a"
        attacher.detach(second.name, vid)
        assert not attacher.secret_exists(vid)
    finally:
        second.destroy()
