"""Issue 13 on a real libvirtd (qemu:///system), no guest booted: file modes of what the driver
puts on a compute host (item 7), DHCP reservations of servers whose names sanitise alike (item 6)."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import uuid

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import driver  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    tag = uuid.uuid4().hex[:6]
    work = tmp_path_factory.mktemp("hardening-host")
    os.chmod(work, 0o711)
    h = driver.LibvirtHost("qemu:///system", instances_pool=f"ministack-test-inst-{tag}",
                           instances_path=str(work / "instances"), images_pool=f"ministack-test-img-{tag}",
                           images_path=str(work / "images"))
    h.ensure_pools()
    yield h
    for pool_name in (h.instances_pool, h.images_pool):
        try:
            pool = h.conn.storagePoolLookupByName(pool_name)
        except libvirt.libvirtError:
            continue
        pool.refresh(0)
        for vol in pool.listVolumes():
            pool.storageVolLookupByName(vol).delete(0)
        if pool.isActive():
            pool.destroy()
        pool.delete(0)
        pool.undefine()


def test_disk_config_drive_and_cache_are_0600_and_owned_by_qemu(host, tmp_path):
    # The user QEMU runs as, as libvirt reports it: <secmodel><model>dac</model><baselabel type='qemu'>
    label = re.search(r"<model>dac</model>.*?<baselabel type='qemu'>\+(\d+):\+(\d+)<", host.conn.getCapabilities(),
                      re.S)
    assert label, "libvirt reports no DAC label for QEMU"
    owner = (int(label.group(1)), int(label.group(2)))
    image = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(image), "16M"], check=True, capture_output=True)
    base, copied = host.ensure_cached_image(f"cache-{uuid.uuid4().hex[:8]}", str(image), "qcow2")
    assert copied
    disk = host.create_overlay("srv.disk", base, "qcow2", 32 * 1024 * 1024)
    config = tmp_path / "disk.config"
    config.write_bytes(b"user_data: secret\n" * 100)
    drive = host.upload_volume(host.instances_pool, "srv.config", str(config))
    for path in (base, disk, drive):
        st = os.stat(path)
        assert (oct(st.st_mode & 0o777), st.st_uid, st.st_gid) == ("0o600", *owner), path
