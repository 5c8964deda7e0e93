# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hypervisor protocol, the guest a driver builds, and the dispatch on hypervisor_type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from ... import testpoints
from .. import ComputeError, configdrive

DRIVERS: dict = {}


class NotSupported(ComputeError):
    """An operation this host's hypervisor cannot do (Nova: HTTP 501, NotImplementedError in the driver)."""

    def __init__(self, operation: str, hypervisor: str, host: Optional[str] = None, hint: str = ""):
        where = f"{hypervisor} host {host}" if host else f"the {hypervisor} driver"
        text = f"The requested functionality is not supported: {operation} on {where}."
        super().__init__(f"{text} {hint}".strip())


def register(*hypervisor_types: str):
    """Class decorator: the driver for these ``hypervisor_type`` values (case-insensitive)."""

    def wrap(cls):
        for name in hypervisor_types:
            DRIVERS[name.upper()] = cls
        return cls

    return wrap


def driver_for(compute_service: dict) -> Hypervisor:
    """The driver of a compute host, chosen by its registered ``hypervisor_type``."""
    hv_type = str(compute_service.get("hypervisor_type") or "QEMU").upper()
    cls = DRIVERS.get(hv_type)
    if cls is None:
        known = ", ".join(sorted(DRIVERS))
        raise ComputeError(f"Compute host {compute_service.get('host')} has hypervisor_type {hv_type}, which no "
                           f"ministack driver handles (known: {known}); register it with one of those.")
    return cls.from_service(compute_service)


@dataclass
class Guest:
    """What a driver needs to build one server, read from the catalog by the server service."""

    id: str
    name: str
    instance_name: str
    project_id: str
    flavor_id: str
    image_id: str
    vcpus: int
    memory_mb: int
    root_gb: int
    availability_zone: str
    image: dict
    ports: list = field(default_factory=list)
    public_keys: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    user_data: Optional[str] = None

    @classmethod
    def from_catalog(cls, row: dict, image: dict, ports: list, key: Optional[dict], instance_name: str) -> Guest:
        return cls(id=row["id"], name=row["name"], instance_name=instance_name, project_id=row["project_id"],
                   flavor_id=row["flavor_id"], image_id=row["image_id"], vcpus=row["vcpus"],
                   memory_mb=row["memory_mb"], root_gb=row["root_gb"],
                   availability_zone=row.get("availability_zone") or "nova", image=image, ports=list(ports),
                   public_keys={key["name"]: key["public_key"]} if key else {},
                   metadata=dict(row.get("metadata") or {}), user_data=row.get("user_data"))

    @property
    def hostname(self) -> str:
        return configdrive.hostname_for(self.name)

    def meta_data(self) -> dict:
        """openstack/latest/meta_data.json, as Nova's metadata service writes it."""
        return configdrive.meta_data(uuid=self.id, name=self.name, hostname=self.hostname,
                                     availability_zone=self.availability_zone, project_id=self.project_id,
                                     public_keys=self.public_keys, meta=self.metadata)

    def network_data(self) -> dict:
        return configdrive.network_data([
            {"id": port["id"], "mac": port["mac_address"], "network_id": port["network_id"], "mtu": port["mtu"],
             "ip": port["ip_address"], "cidr": port["cidr"], "gateway": port["gateway_ip"],
             "dhcp": bool(port["enable_dhcp"]), "dns": port["dns_nameservers"]} for port in self.ports])

    def domain_metadata(self) -> dict:
        return {"name": self.name, "project": self.project_id, "flavor": self.flavor_id, "image": self.image_id}


class Hypervisor:
    """The operations a server needs from its host. Each raises NotSupported unless a driver
    implements it. Servers are addressed by their id (the domain UUID); files a driver keeps
    for a server are named ``<server id>.<what>``."""

    hypervisor_type = "?"
    host = None  # the compute service's host name, for messages

    @classmethod
    def from_service(cls, service: dict) -> Hypervisor:  # pragma: no cover - every driver defines it
        raise NotImplementedError

    def not_supported(self, operation: str, hint: str = "") -> NotSupported:
        return NotSupported(operation, self.hypervisor_type, self.host, hint)

    # ---------------------------------------------------------------- host
    def capacity(self) -> dict:
        """vcpus, memory_mb, local_gb, hypervisor_type/version/hostname, as nova-compute reports them."""
        raise self.not_supported("capacity")

    def ping(self) -> None:
        """Reach the host now (the service heartbeat); raises when it does not answer."""
        raise self.not_supported("ping")

    def connection_lost(self, error: Optional[BaseException] = None) -> bool:
        """Whether ``error`` came from losing the connection to the host (its daemon restarted)
        rather than from the host refusing the work; a new connection is made on next use."""
        return False

    # ---------------------------------------------------------------- build
    def plug_vifs(self, guest: Guest) -> Callable[[], None]:
        """Realise the guest's networks and address reservations; returns a join function
        (the work may run in the background while the disk is prepared)."""
        raise self.not_supported("networking")

    def prepare_root_disk(self, guest: Guest) -> str:
        """The guest's root disk (or root filesystem) from its image; returns its path on the host."""
        raise self.not_supported("root disk")

    def config_drive(self, guest: Guest) -> Optional[str]:
        """The metadata the guest reads at boot; returns a path on the host or None (nothing to attach)."""
        raise self.not_supported("config drive")

    def spawn(self, guest: Guest, root: str, config_drive: Optional[str], timeout: float) -> None:
        raise self.not_supported("spawn")

    def instance_name_free(self, name: str, server_id: str) -> bool:
        """Whether the host has no other guest by this name (two catalogs may share a host)."""
        raise self.not_supported("instance names")

    def build(self, guest: Guest, timeout: float, on_spawning: Optional[Callable[[], None]] = None) -> None:
        """Networks, root disk, config drive, spawn: Nova's _build_and_run_instance on one host."""
        join_vifs = self.plug_vifs(guest)
        try:
            root = self.prepare_root_disk(guest)
            testpoints.reached("host-work")
            drive = self.config_drive(guest)
            if on_spawning is not None:
                on_spawning()
            self.spawn(guest, root, drive, timeout)
        except BaseException:
            try:
                join_vifs()
            except Exception:  # the build error is the one to report
                pass
            raise
        join_vifs()

    # ---------------------------------------------------------------- lifecycle
    def power_state(self, server_id: str) -> int:
        raise self.not_supported("power state")

    def start(self, server_id: str, timeout: float = 60) -> None:
        raise self.not_supported("start")

    def stop(self, server_id: str, timeout: float = 60) -> None:
        raise self.not_supported("stop")

    def reboot(self, server_id: str, hard: bool = False, timeout: float = 60) -> None:
        raise self.not_supported("reboot")

    def pause(self, server_id: str) -> None:
        raise self.not_supported("pause")

    def unpause(self, server_id: str) -> None:
        raise self.not_supported("unpause")

    def suspend(self, server_id: str) -> None:
        raise self.not_supported("suspend")

    def console_log(self, vol_name: str, length: Optional[int] = None) -> str:
        raise self.not_supported("console log")

    def snapshot_disk(self, server_id: str, disk_vol: str, snap_vol: str, dest: str, timeout: float = 600) -> None:
        raise self.not_supported("snapshot (createImage)")

    def migrate(self, server_id: str, destination: Hypervisor) -> None:
        raise self.not_supported("migrate", "Delete the server and create it on the other host.")

    def volume_attacher(self, cache: str = "none", io: str = "native"):
        """The object that hot-plugs block volumes into this host's guests (block/attach.py's API)."""
        raise self.not_supported("attach volume")

    def destroy(self, server_id: str, volume_prefix: str, networks_macs: tuple = ()) -> list:
        """Remove every trace of the guest on the host; returns what was removed."""
        raise self.not_supported("delete")
