"""image and network modules through ansible-playbook: idempotence, check mode, immutable data, clear
failures, and the libvirt network realised on (and removed from) the compute host."""

from __future__ import annotations

import hashlib
import subprocess
import uuid

import pytest

from tests.helpers import guest


def virsh(*args):
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def suffix():
    return uuid.uuid4().hex[:4]


def test_image_register_checksums_idempotence_and_immutability(cloud, suffix, tmp_path):
    image = guest.ensure_test_image()
    name = f"img-{suffix}"
    task = {"name": "Image", "ministack.cloud.image": {"name": name, "filename": str(image), "min_ram": 64,
                                                       "tags": ["test"], "properties": {"os_distro": "cirros"}}}
    checked = cloud.play([task], check=True)
    assert checked.rc == 0 and checked.task("Image")["changed"] is True, checked.explain()
    info = cloud.play([{"name": "Info", "ministack.cloud.image_info": {"image": name}}])
    assert info.task("Info")["images"] == [], "check mode must not register the image"

    first = cloud.play([task])
    assert first.rc == 0, first.explain()
    img = first.task("Image")["image"]
    data = image.read_bytes()
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_algo"] == "sha512" and img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert img["size"] == len(data) and img["virtual_size"] == 128 * 1024 * 1024
    assert img["status"] == "active" and img["min_ram"] == 64 and img["tags"] == ["test"]
    assert img["properties"]["os_distro"] == "cirros" and img["properties"]["stores"] == "file"
    assert (cloud.image_store / img["id"]).is_file()

    again = cloud.play([task])
    assert again.task("Image")["changed"] is False

    update = cloud.play([{"name": "Image", "ministack.cloud.image": {"name": name, "min_disk": 1,
                                                                     "protected": True}}], diff=True)
    assert update.task("Image")["changed"] is True
    assert update.task("Image")["diff"]["after"]["min_disk"] == 1

    other = tmp_path / "other.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(other), "64M"], check=True)
    clash = cloud.play([{"name": "Image", "ministack.cloud.image": {"name": name, "filename": str(other)}}])
    assert clash.rc != 0 and "image data is immutable" in clash.task("Image")["msg"]

    raw_claim = cloud.play([{"name": "Image", "ministack.cloud.image": {"name": f"bad-{suffix}",
                                                                        "filename": str(image), "disk_format": "raw"}}])
    assert raw_claim.rc != 0 and "set disk_format: qcow2" in raw_claim.task("Image")["msg"]

    protected = cloud.play([{"name": "Image", "ministack.cloud.image": {"name": name, "state": "absent"}}])
    assert protected.rc != 0 and "is protected and cannot be deleted" in protected.task("Image")["msg"]
    gone = cloud.play([
        {"name": "Unprotect", "ministack.cloud.image": {"name": name, "protected": False}},
        {"name": "Delete", "ministack.cloud.image": {"name": name, "state": "absent"}},
        {"name": "Delete again", "ministack.cloud.image": {"name": name, "state": "absent"}},
    ])
    assert gone.rc == 0 and gone.task("Delete")["changed"] and not gone.task("Delete again")["changed"]
    assert not (cloud.image_store / img["id"]).exists()


def test_network_realised_on_the_host_idempotent_and_immutable(cloud, suffix):
    name = f"nett-{suffix}"
    cidr = str(guest.free_subnet())
    task = {"name": "Net", "ministack.cloud.network": {"name": name, "cidr": cidr}}
    checked = cloud.play([task], check=True)
    assert checked.rc == 0 and checked.task("Net")["changed"] is True
    assert name not in virsh("net-list", "--all", "--name").stdout
    first = cloud.play([task, {"name": "List", "ministack.cloud.network_info": {}}])
    assert first.rc == 0, first.explain()
    net = first.task("Net")["network"]
    assert first.task("Net")["hosts_changed"] == ["localhost"]
    assert net["gateway_ip"] == cidr.rsplit(".", 1)[0] + ".1" and net["mode"] == "nat" and len(net["subnets"]) == 1
    assert name in [n["name"] for n in first.task("List")["networks"]]
    assert net["libvirt_network"].startswith(f"ministack-{name}-")
    xml = virsh("net-dumpxml", net["libvirt_network"]).stdout
    assert "stp='off'" in xml and "<forward mode='nat'" in xml and net["gateway_ip"] in xml

    again = cloud.play([task])
    assert again.task("Net")["changed"] is False and again.task("Net")["hosts_changed"] == []

    moved = cloud.play([{"name": "Net", "ministack.cloud.network": {"name": name, "cidr": "10.99.0.0/24"}}])
    assert moved.rc != 0 and "cidr cannot be changed" in moved.task("Net")["msg"]

    bad = cloud.play([{"name": "Net", "ministack.cloud.network": {"name": f"x{name}", "cidr": "10.0.0.0/33"}}])
    assert bad.rc != 0 and bad.task("Net")["msg"].startswith("cidr:")

    # The same subnet under another name cannot start on the host: nothing is kept, here or there.
    clash = cloud.play([{"name": "Net", "ministack.cloud.network": {"name": f"dup{name}", "cidr": cidr}},
                        ])
    assert clash.rc != 0 and "Starting network" in clash.task("Net")["msg"]
    listed = cloud.play([{"name": "List", "ministack.cloud.network_info": {}}])
    assert f"dup{name}" not in [n["name"] for n in listed.task("List")["networks"]]
    assert f"dup{name}" not in virsh("net-list", "--all", "--name").stdout

    gone = cloud.play([{"name": "Net", "ministack.cloud.network": {"name": name, "state": "absent"}}])
    assert gone.rc == 0 and gone.task("Net")["changed"] is True
    assert virsh("net-info", net["libvirt_network"]).returncode != 0
