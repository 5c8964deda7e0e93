# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt XML documents for domains, networks, storage pools and volumes.

Pure functions over small dataclasses, so the XML can be unit-tested without libvirt.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Optional

METADATA_NS = "https://ministack.cloud/xmlns/libvirt/instance/1.0"
METADATA_PREFIX = "ministack"


@dataclass
class Disk:
    path: str
    format: str = "qcow2"
    device: str = "disk"  # disk | cdrom
    bus: str = "virtio"  # virtio | ide | scsi
    target: str = "vda"
    readonly: bool = False


@dataclass
class Nic:
    mac: str
    network: Optional[str] = None  # a libvirt network name
    bridge: Optional[str] = None  # or a host bridge
    model: str = "virtio"


@dataclass
class DomainSpec:
    name: str
    uuid: str
    memory_mb: int
    vcpus: int
    virt_type: str = "qemu"
    machine: str = "pc"
    disks: list = field(default_factory=list)
    nics: list = field(default_factory=list)
    console_log: Optional[str] = None
    metadata: dict = field(default_factory=dict)


def _sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def domain_xml(spec: DomainSpec) -> str:
    """The domain definition, close to what nova's libvirt driver writes for a KVM guest."""
    if spec.virt_type not in ("kvm", "qemu"):
        raise ValueError(f"virt_type must be kvm or qemu, not {spec.virt_type!r}")
    dom = ET.Element("domain", {"type": spec.virt_type})
    _sub(dom, "name", spec.name)
    _sub(dom, "uuid", spec.uuid)
    if spec.metadata:
        meta = _sub(dom, "metadata")
        inst = ET.SubElement(meta, f"{{{METADATA_NS}}}instance")
        for key, value in sorted(spec.metadata.items()):
            _sub(inst, f"{{{METADATA_NS}}}{key}", "" if value is None else value)
    _sub(dom, "memory", spec.memory_mb, unit="MiB")
    _sub(dom, "currentMemory", spec.memory_mb, unit="MiB")
    _sub(dom, "vcpu", spec.vcpus)
    # SMBIOS like nova's: lets a guest (and cloud-init's OpenStack datasource) know its cloud.
    sysinfo = _sub(dom, "sysinfo", type="smbios")
    system = _sub(sysinfo, "system")
    for name, value in (("manufacturer", "ministack"), ("product", "OpenStack Compute"),
                        ("serial", spec.uuid), ("uuid", spec.uuid), ("family", "Virtual Machine")):
        _sub(system, "entry", value, name=name)
    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine=spec.machine)
    _sub(os_el, "boot", dev="hd")
    _sub(os_el, "smbios", mode="sysinfo")
    features = _sub(dom, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    if spec.virt_type == "kvm":
        # host-passthrough fails on an MSR on some kernels; host-model is nova's default for kvm.
        _sub(dom, "cpu", mode="host-model")
    clock = _sub(dom, "clock", offset="utc")
    _sub(clock, "timer", name="rtc", tickpolicy="catchup")
    _sub(clock, "timer", name="pit", tickpolicy="delay")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")
    devices = _sub(dom, "devices")
    need_scsi = False
    for disk in spec.disks:
        d = _sub(devices, "disk", type="file", device=disk.device)
        _sub(d, "driver", name="qemu", type=disk.format)
        _sub(d, "source", file=disk.path)
        _sub(d, "target", dev=disk.target, bus=disk.bus)
        if disk.readonly or disk.device == "cdrom":
            _sub(d, "readonly")
        need_scsi = need_scsi or disk.bus == "scsi"
    if need_scsi:
        _sub(devices, "controller", type="scsi", index="0", model="virtio-scsi")
    for nic in spec.nics:
        if nic.network:
            i = _sub(devices, "interface", type="network")
            _sub(i, "mac", address=nic.mac)
            _sub(i, "source", network=nic.network)
        else:
            i = _sub(devices, "interface", type="bridge")
            _sub(i, "mac", address=nic.mac)
            _sub(i, "source", bridge=nic.bridge)
        _sub(i, "model", type=nic.model)
    # A pty console for interactive use, logged to a file by virtlogd: `console log show`.
    serial = _sub(devices, "serial", type="pty")
    if spec.console_log:
        _sub(serial, "log", file=spec.console_log, append="off")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type="pty")
    _sub(console, "target", type="serial", port="0")
    # Entropy for the guest's first boot (ssh host keys), as nova's hw_rng does.
    rng = _sub(devices, "rng", model="virtio")
    _sub(rng, "backend", "/dev/urandom", model="random")
    _sub(devices, "memballoon", model="virtio")
    ET.register_namespace(METADATA_PREFIX, METADATA_NS)
    return ET.tostring(dom, encoding="unicode")


def domain_metadata(xml: str) -> dict:
    """Read back the ministack metadata block written by domain_xml."""
    root = ET.fromstring(xml)
    inst = root.find(f"metadata/{{{METADATA_NS}}}instance")
    if inst is None:
        return {}
    return {child.tag.split("}", 1)[1]: child.text or "" for child in inst}


def domain_disks(xml: str) -> list:
    """[(target dev, source file)] of a domain's file-backed disks."""
    root = ET.fromstring(xml)
    out = []
    for disk in root.findall("devices/disk"):
        src = disk.find("source")
        tgt = disk.find("target")
        if src is not None and src.get("file") and tgt is not None:
            out.append((tgt.get("dev"), src.get("file")))
    return out


@dataclass
class NetworkSpec:
    name: str  # the libvirt network name
    bridge: str  # the bridge libvirt creates (nat/isolated) or the host bridge (bridged)
    mode: str = "nat"  # nat | isolated | bridged
    cidr: Optional[str] = None
    gateway: Optional[str] = None
    dhcp: bool = True
    dhcp_start: Optional[str] = None
    dhcp_end: Optional[str] = None
    mtu: Optional[int] = None
    uuid: Optional[str] = None
    dns_domain: Optional[str] = None
    hosts: list = field(default_factory=list)  # [{mac, ip, name}] fixed DHCP reservations


def default_gateway(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    return str(next(net.hosts()))


def dhcp_bounds(ipnet, gateway: str) -> tuple:
    """First and last address a DHCP range may hand out: the hosts of the network, without a
    gateway at either end. Computed, never enumerated (a /16 has 65,534 hosts)."""
    first, last = ipnet.network_address + 1, ipnet.broadcast_address - 1
    if ipnet.prefixlen >= ipnet.max_prefixlen - 1:  # /31, /32: every address is a host
        first, last = ipnet.network_address, ipnet.broadcast_address
    gw = ipaddress.ip_address(gateway) if gateway else None
    if gw == first:
        first += 1
    if gw == last:
        last -= 1
    return first, last


def network_xml(spec: NetworkSpec) -> str:
    if spec.mode not in ("nat", "isolated", "bridged"):
        raise ValueError(f"network mode must be nat, isolated or bridged, not {spec.mode!r}")
    net = ET.Element("network")
    _sub(net, "name", spec.name)
    if spec.uuid:
        _sub(net, "uuid", spec.uuid)
    if spec.mode == "bridged":
        # The guest NICs join an existing host bridge; addressing is the physical network's.
        _sub(net, "forward", mode="bridge")
        _sub(net, "bridge", name=spec.bridge)
        return ET.tostring(net, encoding="unicode")
    if spec.mode == "nat":
        _sub(net, "forward", mode="nat")
    # stp off: with STP on, the new port waits in the learning state and DHCP takes ~4 s more.
    _sub(net, "bridge", name=spec.bridge, stp="off", delay="0")
    if spec.mtu:
        _sub(net, "mtu", size=spec.mtu)
    if spec.dns_domain:
        _sub(net, "domain", name=spec.dns_domain, localOnly="yes")
    if spec.cidr:
        ipnet = ipaddress.ip_network(spec.cidr, strict=False)
        gateway = spec.gateway or default_gateway(spec.cidr)
        ip = _sub(net, "ip", address=gateway, prefix=ipnet.prefixlen)
        if ipnet.version == 6:
            ip.set("family", "ipv6")
        if spec.dhcp:
            dhcp = _sub(ip, "dhcp")
            first, last = dhcp_bounds(ipnet, gateway)
            start = spec.dhcp_start or str(first)
            end = spec.dhcp_end or str(last)
            _sub(dhcp, "range", start=start, end=end)
            for host in spec.hosts:
                _sub(dhcp, "host", **host_entry_attrs(host))
    return ET.tostring(net, encoding="unicode")


def host_entry_attrs(host: dict) -> dict:
    attrs = {"mac": host["mac"], "ip": host["ip"]}
    if host.get("name"):
        attrs["name"] = host["name"]
    return attrs


def dhcp_host_xml(host: dict) -> str:
    return ET.tostring(ET.Element("host", host_entry_attrs(host)), encoding="unicode")


def pool_xml(name: str, path: str) -> str:
    pool = ET.Element("pool", {"type": "dir"})
    _sub(pool, "name", name)
    target = _sub(pool, "target")
    _sub(target, "path", path)
    perms = _sub(target, "permissions")
    _sub(perms, "mode", "0711")
    return ET.tostring(pool, encoding="unicode")


def volume_xml(name: str, capacity_bytes: int, fmt: str = "qcow2", backing: Optional[tuple] = None,
               allocation_bytes: Optional[int] = None, owner: Optional[tuple] = None) -> str:
    """A storage volume; backing=(path, format) makes a copy-on-write overlay.

    Mode 0600, owned by ``owner`` = (uid, gid), the user QEMU runs as, when given: guest disks,
    config drives (user_data) and cached images are readable by QEMU and root only."""
    vol = ET.Element("volume")
    _sub(vol, "name", name)
    _sub(vol, "capacity", int(capacity_bytes), unit="bytes")
    if allocation_bytes is not None:
        _sub(vol, "allocation", int(allocation_bytes), unit="bytes")
    target = _sub(vol, "target")
    _sub(target, "format", type=fmt)
    perms = _sub(target, "permissions")
    _sub(perms, "mode", "0600")
    if owner is not None:
        _sub(perms, "owner", int(owner[0]))
        _sub(perms, "group", int(owner[1]))
    if backing:
        bs = _sub(vol, "backingStore")
        _sub(bs, "path", backing[0])
        _sub(bs, "format", type=backing[1])
    return ET.tostring(vol, encoding="unicode")


def qemu_owner(capabilities_xml: str, virt_type: str = "qemu") -> Optional[tuple]:
    """(uid, gid) QEMU runs as, from the host capabilities' DAC base label (``+64055:+64055``)."""
    root = ET.fromstring(capabilities_xml)
    for model in root.findall("host/secmodel"):
        if model.findtext("model") != "dac":
            continue
        labels = {el.get("type"): (el.text or "") for el in model.findall("baselabel")}
        label = labels.get(virt_type) or labels.get("qemu") or labels.get("kvm")
        if not label or ":" not in label:
            return None
        uid, gid = (part.lstrip("+") for part in label.split(":", 1))
        if uid.isdigit() and gid.isdigit():
            return int(uid), int(gid)
    return None
