# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver of a compute host, from its compute service row (the catalog's record).

Servers, networks and images all reach a host through here, so no compute module needs
another's (this removed the networks <-> servers import circle)."""

from __future__ import annotations

from . import driver as drv


def libvirt_host(service: dict) -> drv.LibvirtHost:
    caps = service.get("capabilities") or {}
    uri = service.get("libvirt_uri") or "qemu:///system"
    return drv.LibvirtHost(uri, virt_type=caps.get("virt_type", "qemu"),
                           instances_pool=caps.get("instances_pool", drv.INSTANCES_POOL),
                           images_pool=caps.get("images_pool", drv.IMAGES_POOL))
