# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attach an iSCSI export to a libvirt domain as a network disk (Nova's LibvirtISCSIVolumeDriver
without the kernel initiator: QEMU's own libiscsi client logs in, so the compute host needs no
iscsiadm, no /dev/sdX and no multipath).

The CHAP secret lives in a private libvirt secret (usage type iscsi) named after the volume;
the disk's ``<auth>`` refers to it by usage, so the secret never appears in domain XML.
"""

from __future__ import annotations

import string
import time
import xml.etree.ElementTree as ET

from .errors import BlockError, NotFound

SECRET_USAGE = "ministack-volume-{}"
DEFAULT_INITIATOR_PREFIX = "iqn.2010-10.org.ministack:initiator-"


def _libvirt():
    import libvirt  # imported lazily: unit tests of XML building need no libvirt

    return libvirt


def secret_usage(volume_id):
    return SECRET_USAGE.format(volume_id)


def initiator_name(compute_host):
    """The initiator IQN QEMU presents for a compute host; it goes into the target's ACL."""
    safe = "".join(c if c.isalnum() or c in ".-" else "-" for c in compute_host.lower())
    return f"{DEFAULT_INITIATOR_PREFIX}{safe}"


def secret_xml(volume_id):
    root = ET.Element("secret", ephemeral="no", private="yes")
    ET.SubElement(root, "description").text = f"CHAP secret of ministack volume {volume_id}"
    usage = ET.SubElement(root, "usage", type="iscsi")
    ET.SubElement(usage, "target").text = secret_usage(volume_id)
    return ET.tostring(root, encoding="unicode")


def disk_xml(volume_id, connection, device, initiator=None, cache="none", io="native", bus="virtio"):
    """The <disk type='network'> element for a volume export."""
    disk = ET.Element("disk", type="network", device="disk")
    driver = {"name": "qemu", "type": "raw", "cache": cache, "discard": "unmap"}
    if io:
        driver["io"] = io
    ET.SubElement(disk, "driver", driver)
    source = ET.SubElement(disk, "source", protocol="iscsi",
                           name=f"{connection['target_iqn']}/{connection['target_lun']}")
    ET.SubElement(source, "host", name=str(connection["target_host"]), port=str(connection["target_port"]))
    if initiator:
        init = ET.SubElement(source, "initiator")
        ET.SubElement(init, "iqn", name=initiator)
    auth = ET.SubElement(source, "auth", username=connection["auth_username"])
    ET.SubElement(auth, "secret", type="iscsi", usage=secret_usage(volume_id))
    ET.SubElement(disk, "target", dev=device.removeprefix("/dev/"), bus=bus)
    # The guest sees the volume id as the disk serial (/dev/disk/by-id/virtio-<id>), as with Nova.
    ET.SubElement(disk, "serial").text = str(volume_id)[:20]
    return ET.tostring(disk, encoding="unicode")


def valid_device(device):
    name = str(device).removeprefix("/dev/")
    return len(name) == 3 and name.startswith("vd") and name[2] in string.ascii_lowercase[1:]


def used_devices(domain_xml):
    root = ET.fromstring(domain_xml)
    return {t.get("dev") for t in root.findall("./devices/disk/target")}


def next_device(domain_xml, prefix="vd"):
    """Nova's rule: the first free /dev/<prefix><letter> after the ones the domain uses."""
    used = used_devices(domain_xml)
    for letter in string.ascii_lowercase[1:]:
        if f"{prefix}{letter}" not in used:
            return f"/dev/{prefix}{letter}"
    raise BlockError("No free device name left on the server (vdb..vdz all used).")


def find_volume_disk(domain_xml, volume_id=None, iqn=None):
    """Return (device, disk XML) of the network disk carrying this volume, or (None, None)."""
    root = ET.fromstring(domain_xml)
    for disk in root.findall("./devices/disk"):
        src = disk.find("source")
        if src is None or src.get("protocol") != "iscsi":
            continue
        name = src.get("name", "")
        serial = disk.findtext("serial")
        if (iqn and name.split("/")[0] == iqn) or (volume_id and serial == str(volume_id)[:20]):
            target = disk.find("target")
            return f"/dev/{target.get('dev')}", ET.tostring(disk, encoding="unicode")
    return None, None


class LibvirtAttacher:
    """Hot-plugs volumes into domains on one compute host through a libvirt connection."""

    def __init__(self, uri="qemu:///system", conn=None, cache="none", io="native", detach_timeout=30):
        self.uri = uri
        self._conn = conn
        self.cache = cache
        self.io = io
        self.detach_timeout = detach_timeout

    @property
    def conn(self):
        if self._conn is not None:
            return self._conn
        # The controller's one connection to this host's libvirtd, shared with compute.
        from .. import virtconn

        try:
            return virtconn.connect(self.uri)
        except virtconn.ConnectError as exc:
            raise BlockError(str(exc)) from exc

    def domain(self, server):
        lv = _libvirt()
        for lookup in (self.conn.lookupByUUIDString, self.conn.lookupByName):
            try:
                return lookup(server)
            except (lv.libvirtError, ValueError):
                continue
        raise NotFound(f"No server with a name or ID of '{server}' exists on {self.uri}.")

    # -- secrets -------------------------------------------------------------------------------
    def _secret(self, volume_id):
        lv = _libvirt()
        try:
            return self.conn.secretLookupByUsage(lv.VIR_SECRET_USAGE_TYPE_ISCSI, secret_usage(volume_id))
        except lv.libvirtError:
            return None

    def secret_exists(self, volume_id):
        return self._secret(volume_id) is not None

    def define_secret(self, volume_id, value):
        secret = self._secret(volume_id) or self.conn.secretDefineXML(secret_xml(volume_id))
        secret.setValue(value.encode())
        return secret.UUIDString()

    def delete_secret(self, volume_id):
        secret = self._secret(volume_id)
        if secret is not None:
            secret.undefine()

    # -- disks ---------------------------------------------------------------------------------
    def attached_device(self, server, volume_id):
        dom = self.domain(server)
        device = find_volume_disk(dom.XMLDesc(0), volume_id=volume_id)[0]
        return device

    def attach(self, server, volume_id, connection, chap_secret, device=None, initiator=None):
        """Define the secret, hot-plug the disk; undo the secret if the hot-plug fails."""
        lv = _libvirt()
        dom = self.domain(server)
        xml = dom.XMLDesc(0)
        existing = find_volume_disk(xml, volume_id=volume_id)[0]
        if existing:
            return existing
        if device:
            device = device if device.startswith("/dev/") else f"/dev/{device}"
            if device.removeprefix("/dev/") in used_devices(xml):
                raise BlockError(f"Device {device} is already in use on server {server}; choose another or omit it.")
        else:
            device = next_device(xml)
        had_secret = self.secret_exists(volume_id)
        self.define_secret(volume_id, chap_secret)
        disk = disk_xml(volume_id, connection, device, initiator=initiator, cache=self.cache, io=self.io)
        flags = lv.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else 0
        if dom.isActive():
            flags |= lv.VIR_DOMAIN_AFFECT_LIVE
        try:
            dom.attachDeviceFlags(disk, flags)
        except lv.libvirtError as exc:
            if not had_secret:
                self.delete_secret(volume_id)
            raise BlockError(f"Failed to attach volume {volume_id} to server {server}: {exc}") from exc
        return device

    def detach(self, server, volume_id, keep_secret=False):
        """Unplug the disk (waiting for the guest to let go), then drop the secret. Idempotent."""
        lv = _libvirt()
        dom = self.domain(server)
        device, disk = find_volume_disk(dom.XMLDesc(0), volume_id=volume_id)
        if disk is None:
            inactive_device, inactive_disk = (None, None)
            if dom.isPersistent():
                inactive_device, inactive_disk = find_volume_disk(
                    dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE), volume_id=volume_id)
            if inactive_disk is not None:
                dom.detachDeviceFlags(inactive_disk, lv.VIR_DOMAIN_AFFECT_CONFIG)
            if not keep_secret:
                self.delete_secret(volume_id)
            return inactive_device
        flags = 0
        if dom.isPersistent():
            flags |= lv.VIR_DOMAIN_AFFECT_CONFIG
        if dom.isActive():
            flags |= lv.VIR_DOMAIN_AFFECT_LIVE
        try:
            dom.detachDeviceFlags(disk, flags)
        except lv.libvirtError as exc:
            raise BlockError(f"Failed to detach volume {volume_id} from server {server}: {exc}") from exc
        # A live detach completes when the guest acknowledges the unplug.
        deadline = time.monotonic() + self.detach_timeout
        while dom.isActive() and time.monotonic() < deadline:
            if find_volume_disk(dom.XMLDesc(0), volume_id=volume_id)[1] is None:
                break
            time.sleep(0.2)
        else:
            if dom.isActive() and find_volume_disk(dom.XMLDesc(0), volume_id=volume_id)[1] is not None:
                raise BlockError(
                    f"Device detach failed for {device}: the guest of server {server} did not release "
                    f"it within {self.detach_timeout} s."
                )
        if not keep_secret:
            self.delete_secret(volume_id)
        return device
