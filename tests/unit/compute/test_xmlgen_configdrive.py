"""Domain/network XML and the config drive, without a hypervisor."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import configdrive, xmlgen


def spec(**kw):
    base = dict(name="instance-0000000d", uuid="dfbe6675-32cf-468e-b21c-24e596a76d01", memory_mb=256, vcpus=1,
                disks=[xmlgen.Disk("/p/disk"), xmlgen.Disk("/p/cd", format="raw", device="cdrom", bus="ide",
                                                            target="hda")],
                nics=[xmlgen.Nic(mac="fa:16:3e:00:00:01", network="ministack-intnet")],
                console_log="/p/console.log", metadata={"name": "instance01"})
    base.update(kw)
    return xmlgen.DomainSpec(**base)


def test_domain_xml_qemu_has_the_devices_nova_writes():
    root = ET.fromstring(xmlgen.domain_xml(spec()))
    assert root.get("type") == "qemu"
    assert root.find("cpu") is None  # no host-model under TCG
    assert root.findtext("memory") == "256" and root.find("memory").get("unit") == "MiB"
    disks = root.findall("devices/disk")
    assert [(d.get("device"), d.find("target").get("bus")) for d in disks] == [("disk", "virtio"), ("cdrom", "ide")]
    assert disks[0].find("driver").get("type") == "qcow2"
    assert disks[1].find("readonly") is not None
    serial = root.find("devices/serial")
    assert serial.get("type") == "pty" and serial.find("log").get("file") == "/p/console.log"
    assert root.find("devices/interface/source").get("network") == "ministack-intnet"
    assert root.find("devices/interface/model").get("type") == "virtio"
    assert xmlgen.domain_metadata(xmlgen.domain_xml(spec())) == {"name": "instance01"}
    assert xmlgen.domain_disks(xmlgen.domain_xml(spec()))[0] == ("vda", "/p/disk")


def test_domain_xml_kvm_and_scsi_cdrom():
    root = ET.fromstring(xmlgen.domain_xml(spec(virt_type="kvm", disks=[
        xmlgen.Disk("/p/cd", format="raw", device="cdrom", bus="scsi", target="sda")])))
    assert root.get("type") == "kvm" and root.find("cpu").get("mode") == "host-model"
    assert root.find("devices/controller").get("model") == "virtio-scsi"
    with pytest.raises(ValueError, match="virt_type"):
        xmlgen.domain_xml(spec(virt_type="xen"))


def test_network_xml_modes():
    nat = ET.fromstring(xmlgen.network_xml(xmlgen.NetworkSpec(
        name="n", bridge="msbr-1", cidr="10.5.5.0/24", hosts=[{"mac": "fa:16:3e:00:00:01", "ip": "10.5.5.29"}])))
    assert nat.find("forward").get("mode") == "nat" and nat.find("bridge").get("stp") == "off"
    assert nat.find("ip").get("address") == "10.5.5.1" and nat.find("ip").get("prefix") == "24"
    assert nat.find("ip/dhcp/range").get("start") == "10.5.5.2"
    assert nat.find("ip/dhcp/host").get("ip") == "10.5.5.29"
    iso = ET.fromstring(xmlgen.network_xml(xmlgen.NetworkSpec(name="n", bridge="b", mode="isolated",
                                                               cidr="10.6.0.0/24", dhcp=False)))
    assert iso.find("forward") is None and iso.find("ip/dhcp") is None
    br = ET.fromstring(xmlgen.network_xml(xmlgen.NetworkSpec(name="n", bridge="br0", mode="bridged")))
    assert br.find("forward").get("mode") == "bridge" and br.find("ip") is None


def test_hostname_sanitised_like_nova():
    assert configdrive.hostname_for("Instance 01_a!") == "instance-01-a"
    assert configdrive.hostname_for("...") == "server"


def test_network_data_dhcp_and_static():
    nd = configdrive.network_data([
        {"id": "p1" * 10, "mac": "fa:16:3e:00:00:01", "network_id": "n1"},
        {"id": "p2" * 10, "mac": "fa:16:3e:00:00:02", "network_id": "n2", "dhcp": False, "ip": "10.0.0.5",
         "cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "dns": ["10.0.0.1"]}])
    assert nd["networks"][0]["type"] == "ipv4_dhcp"
    static = nd["networks"][1]
    assert static["type"] == "ipv4" and static["netmask"] == "255.255.255.0"
    assert static["routes"][0]["gateway"] == "10.0.0.1"
    assert nd["links"][1]["ethernet_mac_address"] == "fa:16:3e:00:00:02"
    assert nd["services"] == [{"type": "dns", "address": "10.0.0.1"}]


@pytest.mark.skipif(not shutil.which("isoinfo") or not configdrive.iso_tool(), reason="needs genisoimage")
def test_config_drive_iso_label_and_files(tmp_path):
    md = configdrive.meta_data(uuid="u-1", name="instance01", public_keys={"mykeypair": "ssh-ed25519 AAAA k"},
                               meta={"role": "web"}, project_id="p")
    iso = configdrive.build(str(tmp_path / "cd.iso"), md, "#!/bin/sh\necho hi\n",
                            configdrive.network_data([{"id": "x" * 20, "mac": "fa:16:3e:00:00:01"}]))
    pvd = subprocess.run(["isoinfo", "-d", "-i", iso], capture_output=True, text=True, check=True).stdout
    assert "Volume id: config-2" in pvd
    files = subprocess.run(["isoinfo", "-R", "-f", "-i", iso], capture_output=True, text=True, check=True).stdout
    for path in ("/openstack/latest/meta_data.json", "/openstack/latest/user_data",
                 "/openstack/latest/network_data.json", "/openstack/2012-08-10/meta_data.json",
                 "/ec2/latest/meta-data.json"):
        assert path in files.split()
    data = subprocess.run(["isoinfo", "-R", "-i", iso, "-x", "/openstack/latest/meta_data.json"],
                          capture_output=True, text=True, check=True).stdout
    loaded = json.loads(data)
    assert loaded["public_keys"] == {"mykeypair": "ssh-ed25519 AAAA k"}
    assert loaded["hostname"] == "instance01" and loaded["meta"] == {"role": "web"} and loaded["uuid"] == "u-1"
    assert "/openstack/2012-08-10/network_data.json" not in files.split()  # appeared in 2015-10-15
