"""Issue 13 on a real libvirtd (qemu:///system), no guest booted: file modes of what the driver
puts on a compute host (item 7), DHCP reservations of servers whose names sanitise alike (item 6)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import driver  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def host():
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    tag = uuid.uuid4().hex[:6]
    # QEMU (another user) must reach the pools: not under pytest's 0700 tmp directory.
    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-hard-", dir="/var/tmp"))
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
    shutil.rmtree(work, ignore_errors=True)


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


@pytest.fixture(scope="module")
def cloud(host, tmp_path_factory):
    """A catalog with this machine as compute host ``hard-local``, using the test's own pools, a blank
    image (the guests need not boot an OS: no guest CPU is spent), an isolated network, a 64 MB flavor."""
    from tests.helpers import guest
    from tests.helpers.inproc import call

    tmp = tmp_path_factory.mktemp("hardening-cloud")
    tv = {"ministack_catalog": str(tmp / "catalog.db"), "ministack_image_store": str(tmp / "images")}
    image = tmp / "blank.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(image), "64M"], check=True, capture_output=True)
    net = f"hardnet-{uuid.uuid4().hex[:4]}"
    for module, args in (
            ("compute_service", {"host": "hard-local", "libvirt_uri": "qemu:///system", "vcpus": 8,
                                 "memory_mb": 4096, "local_gb": 10,
                                 "capabilities": {"virt_type": "qemu", "instances_pool": host.instances_pool,
                                                  "images_pool": host.images_pool}}),
            ("image", {"name": "blank", "filename": str(image)}),
            ("flavor", {"name": "hard.nano", "ram": 64, "vcpus": 1, "disk": 1}),
            ("network", {"name": net, "cidr": str(guest.free_subnet()), "mode": "isolated"})):
        result = call(module, args, tv)
        assert not result.get("failed"), result
    made = []
    yield {"tv": tv, "net": net, "made": made, "call": call}
    for name in made:
        call("server", {"name": name, "state": "absent"}, tv)
    call("network", {"name": net, "state": "absent"}, tv)


def test_servers_whose_names_sanitise_alike_share_a_network(cloud, host):
    """web 1 / web_1 both become hostname web-1, !!! / @@@ both server: each still gets its own DHCP
    reservation (named after its address, as Neutron does), and keeps Nova's hostname in its config drive."""
    call, tv = cloud["call"], cloud["tv"]
    want = {"web 1": "web-1", "web_1": "web-1", "!!!": "server", "@@@": "server"}
    records = {}
    for name in want:
        cloud["made"].append(name)
        result = call("server", {"name": name, "image": "blank", "flavor": "hard.nano", "network": cloud["net"],
                                 "wait": False}, tv)
        assert not result.get("failed"), result.get("msg")
        records[name] = result["server"]
        assert records[name]["status"] == "ACTIVE"
    libvirt_net = host.conn.networkLookupByName(_libvirt_network(cloud))
    entries = re.findall(r"<host mac='([^']+)' name='([^']+)' ip='([^']+)'", libvirt_net.XMLDesc(0))
    assert len(entries) == 4 and len({name for _mac, name, _ip in entries}) == 4, entries
    for name, rec in records.items():
        ip = rec["ports"][0]["ip_address"]
        assert (rec["ports"][0]["mac_address"], "host-" + ip.replace(".", "-"), ip) in entries
        drive = os.path.join(host.pool_path(host.instances_pool), f"{rec['id']}.config")
        meta = subprocess.run(["isoinfo", "-R", "-i", drive, "-x", "/openstack/latest/meta_data.json"],
                              capture_output=True, text=True, check=True).stdout
        assert f'"hostname": "{want[name]}"' in meta, meta


def _libvirt_network(cloud) -> str:
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
    from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.networks import find_network_row

    catalog = open_catalog(cloud["tv"]["ministack_catalog"])
    with catalog.read() as tx:
        row = find_network_row(tx, cloud["net"])
    catalog.dispose()
    return row["libvirt_network"]
