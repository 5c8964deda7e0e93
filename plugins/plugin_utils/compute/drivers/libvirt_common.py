# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the libvirt drivers share: one libvirtd (through the shared connection cache), its
storage pools (image cache, instance files), its networks and DHCP reservations, and the
domain lifecycle of compute/driver.py's LibvirtHost."""

from __future__ import annotations

from typing import Callable

from ..driver import IMAGES_POOL, INSTANCES_POOL, LibvirtHost, _Background
from ..networks import dhcp_hostname, network_spec
from .base import Guest, Hypervisor


class LibvirtDriver(LibvirtHost, Hypervisor):
    default_uri = "qemu:///system"

    @classmethod
    def from_service(cls, service: dict):
        caps = service.get("capabilities") or {}
        uri = service.get("libvirt_uri") or cls.default_uri
        driver = cls(uri, virt_type=caps.get("virt_type", "qemu"),
                     instances_pool=caps.get("instances_pool", INSTANCES_POOL),
                     images_pool=caps.get("images_pool", IMAGES_POOL))
        driver.host = service.get("host")
        driver.service = service
        return driver

    def ping(self) -> None:
        self.conn.getLibVersion()

    def plug_vifs(self, guest: Guest) -> Callable[[], None]:
        reservations = []
        for port in guest.ports:
            # Realise the network here if this host does not have it yet (a host added later).
            self.ensure_network(network_spec(port))
            if port["ip_address"] and port["enable_dhcp"]:
                # Named after the address (Neutron's host-10-0-0-5): unique on the network.
                reservations.append((port["libvirt_network"],
                                     {"mac": port["mac_address"], "ip": port["ip_address"],
                                      "name": dhcp_hostname(port["ip_address"])}))
        # Each reservation restarts the host's dnsmasq (~1 s): done while the disk is prepared;
        # the guest asks for its address seconds later.
        job = _Background(lambda: [self.add_dhcp_host(net, res) for net, res in reservations])
        return job.result

    def instance_name_free(self, name: str, server_id: str) -> bool:
        on_host = self.domain_uuid(name)
        return on_host is None or on_host == server_id
