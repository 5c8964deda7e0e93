# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""QEMU/KVM through libvirt (Nova's libvirt driver with virt_type kvm or qemu).

Root disk: a qcow2 copy-on-write overlay on the image, cached once per host. Config drive:
an ISO9660 ``config-2`` image on an IDE CD-ROM. Volumes: iSCSI network disks hot-plugged
through QEMU's own iSCSI client (block/attach.py)."""

from __future__ import annotations

import os
import tempfile
from typing import Optional

from .. import configdrive, xmlgen
from ..images import image_path
from .base import Guest, register
from .libvirt_common import LibvirtDriver

GiB = 1024 ** 3


@register("QEMU", "KVM")
class LibvirtQemuDriver(LibvirtDriver):
    hypervisor_type = "QEMU"
    default_uri = "qemu:///system"

    def prepare_root_disk(self, guest: Guest) -> str:
        image = guest.image
        if image.get("container_format") == "compressed":
            raise self.not_supported(f"booting image {image['name']}, a root filesystem tarball",
                                     "Give it the property hypervisor_type=lxc so that it goes to an LXC host.")
        base, _copied = self.ensure_cached_image(image["checksum"], image_path(image), image["disk_format"])
        size = max(guest.root_gb * GiB, image["virtual_size"] or 0)
        return self.create_overlay(f"{guest.id}.disk", base, image["disk_format"], size)

    def config_drive(self, guest: Guest) -> Optional[str]:
        with tempfile.TemporaryDirectory(prefix="ministack-cd-") as tmp:
            iso_path = configdrive.build(os.path.join(tmp, "disk.config"), guest.meta_data(), guest.user_data,
                                         guest.network_data())
            return self.upload_volume(self.instances_pool, f"{guest.id}.config", iso_path)

    def spawn(self, guest: Guest, root: str, config_drive: Optional[str], timeout: float) -> None:
        disks = [xmlgen.Disk(root, format="qcow2")]
        if config_drive:
            # The cloud kernel has no AHCI: the config drive goes on IDE (pc machine), as in Nova.
            disks.append(xmlgen.Disk(config_drive, format="raw", device="cdrom", bus="ide", target="hda"))
        spec = xmlgen.DomainSpec(
            name=guest.instance_name, uuid=guest.id, memory_mb=guest.memory_mb, vcpus=guest.vcpus,
            virt_type=self.virt_type, disks=disks,
            nics=[xmlgen.Nic(mac=port["mac_address"], network=port["libvirt_network"]) for port in guest.ports],
            console_log=os.path.join(self.pool_path(self.instances_pool), f"{guest.id}.console.log"),
            metadata=guest.domain_metadata())
        super().spawn(spec, timeout=timeout)

    def volume_attacher(self, cache: str = "none", io: str = "native"):
        from ...block.attach import LibvirtAttacher

        return LibvirtAttacher(uri=self.uri, conn=self.conn, cache=cache, io=io)
