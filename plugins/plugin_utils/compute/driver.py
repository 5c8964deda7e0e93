# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The libvirt driver: one KVM host, reached through libvirt's (remote) API.

Everything the controller does on a host goes through the libvirt connection: storage pools
hold the image cache and the instances' disks, config drives and console logs; bytes move
with libvirt streams (upload/download), so a remote host needs nothing but libvirtd and an
SSH login for ``qemu+ssh://``. Like nova-compute's libvirt driver, but driven from the
controller.
"""

from __future__ import annotations

import os
import threading
import time
import xml.etree.ElementTree as ET
from typing import Optional

from .. import virtconn
from ..virtconn import HAS_LIBVIRT, libvirt
from . import BuildError, ComputeError, imagefile, xmlgen

INSTANCES_POOL = "ministack-instances"
IMAGES_POOL = "ministack-images"
INSTANCES_PATH = "/var/lib/ministack/instances"
IMAGES_PATH = "/var/lib/ministack/images"

# nova.compute.power_state codes, from libvirt's domain states (nova/virt/libvirt/driver.py).
NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED = 0, 1, 3, 4, 6, 7
POWER_STATE_NAMES = {NOSTATE: "NOSTATE", RUNNING: "Running", PAUSED: "Paused", SHUTDOWN: "Shutdown",
                     CRASHED: "Crashed", SUSPENDED: "Suspended"}
_LIBVIRT_POWER = {0: NOSTATE, 1: RUNNING, 2: RUNNING, 3: PAUSED, 4: SHUTDOWN, 5: SHUTDOWN,
                  6: CRASHED, 7: SUSPENDED}

_connections = virtconn._connections  # the shared cache (tests reset entries in it)


def require_libvirt():
    if not HAS_LIBVIRT:
        raise ComputeError("The libvirt Python binding is missing on the controller: "
                           "pip install libvirt-python (see requirements.txt).")


def _err(exc) -> str:
    return virtconn.error_text(exc)


def _is_no_such(exc, *codes) -> bool:
    return isinstance(exc, libvirt.libvirtError) and exc.get_error_code() in codes


def connect(uri: str):
    """A cached, live connection to the libvirtd at ``uri`` (shared with block, see virtconn)."""
    require_libvirt()
    try:
        return virtconn.connect(uri)
    except virtconn.ConnectError as exc:
        raise ComputeError(str(exc)) from exc


def disconnect_all():
    virtconn.disconnect_all()


def host_uri(host: dict) -> str:
    """The libvirt URI of a compute host record: an explicit ``libvirt_uri`` wins."""
    uri = host.get("libvirt_uri") or host.get("uri")
    if uri:
        return uri
    address = host.get("address") or host.get("host_ip")
    if not address or address in ("localhost", "127.0.0.1", "::1"):
        return "qemu:///system"
    user = host.get("ssh_user") or "root"
    uri = f"qemu+ssh://{user}@{address}/system"
    params = []
    if host.get("ssh_key"):
        params.append(f"keyfile={host['ssh_key']}")
    params.append("no_verify=1")
    return uri + "?" + "&".join(params)


class _Background:
    """Run ``fn`` in a thread now; ``result()`` joins it and re-raises its exception.

    libvirt connections are thread-safe and the binding releases the GIL during calls."""

    def __init__(self, fn):
        self._value = None
        self._error = None

        def run():
            try:
                self._value = fn()
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _looks_like_uuid(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def instance_name(number: int) -> str:
    """Nova's default instance_name_template, ``instance-%08x``."""
    return f"instance-{int(number):08x}"


class LibvirtHost:
    """Operations on one compute host."""

    def __init__(self, uri: str = "qemu:///system", *, virt_type: str = "qemu",
                 instances_pool: str = INSTANCES_POOL, instances_path: str = INSTANCES_PATH,
                 images_pool: str = IMAGES_POOL, images_path: str = IMAGES_PATH):
        self.uri = uri
        self.virt_type = virt_type
        self.instances_pool = instances_pool
        self.instances_path = instances_path
        self.images_pool = images_pool
        self.images_path = images_path

    @property
    def conn(self):
        return connect(self.uri)

    def connection_lost(self, error=None) -> bool:
        return virtconn.connection_lost(self.uri, error)

    @property
    def qemu_owner(self) -> Optional[tuple]:
        """(uid, gid) of the user QEMU runs as on this host (None when libvirt has no DAC model)."""
        if not hasattr(self, "_qemu_owner"):
            try:
                self._qemu_owner = xmlgen.qemu_owner(self.conn.getCapabilities(), self.virt_type)
            except (libvirt.libvirtError, ET.ParseError):
                self._qemu_owner = None
        return self._qemu_owner

    # ---------------------------------------------------------------- host facts
    def capacity(self) -> dict:
        """vcpus, memory_mb and local_gb of the host, as nova-compute reports them."""
        model, memory_mb, cpus = self.conn.getInfo()[:3]
        local_gb = 0
        try:
            pool = self.conn.storagePoolLookupByName(self.instances_pool)
            pool.refresh(0)
            local_gb = pool.info()[1] // (1024 ** 3)
        except libvirt.libvirtError:
            pass
        return {"vcpus": cpus, "memory_mb": memory_mb, "local_gb": local_gb, "cpu_model": model,
                "hypervisor_hostname": self.conn.getHostname(),
                "hypervisor_type": "QEMU", "hypervisor_version": self.conn.getVersion()}

    # ---------------------------------------------------------------- storage pools
    def ensure_pool(self, name: str, path: str, check_mode: bool = False) -> bool:
        """A directory pool, defined, built, active and autostarted. Returns changed."""
        changed = False
        try:
            pool = self.conn.storagePoolLookupByName(name)
        except libvirt.libvirtError:
            if check_mode:
                return True
            pool = self.conn.storagePoolDefineXML(xmlgen.pool_xml(name, path), 0)
            pool.build(0)
            changed = True
        if not pool.isActive():
            if check_mode:
                return True
            pool.create(0)
            changed = True
        if not pool.autostart():
            if check_mode:
                return True
            pool.setAutostart(1)
            changed = True
        return changed

    def ensure_pools(self) -> bool:
        a = self.ensure_pool(self.instances_pool, self.instances_path)
        b = self.ensure_pool(self.images_pool, self.images_path)
        return a or b

    def _pool(self, name: str):
        try:
            pool = self.conn.storagePoolLookupByName(name)
        except libvirt.libvirtError as exc:
            if not _is_no_such(exc, libvirt.VIR_ERR_NO_STORAGE_POOL):
                raise ComputeError(f"Looking up storage pool {name} on {self.uri} failed: {_err(exc)}") from exc
            raise ComputeError(f"Storage pool {name} is missing on {self.uri}: run the kvm_host role "
                               f"on this host ({_err(exc)})") from exc
        if not pool.isActive():
            pool.create(0)
        return pool

    def pool_path(self, name: str) -> str:
        root = ET.fromstring(self._pool(name).XMLDesc(0))
        return root.findtext("target/path")

    def _lookup_volume(self, pool_name: str, vol_name: str, refresh: bool = False):
        pool = self._pool(pool_name)
        if refresh:
            pool.refresh(0)
        try:
            return pool.storageVolLookupByName(vol_name)
        except libvirt.libvirtError:
            return None

    def _upload(self, vol, path: str):
        size = os.path.getsize(path)
        stream = self.conn.newStream(0)
        vol.upload(stream, 0, size, 0)
        with open(path, "rb") as handle:
            stream.sendAll(lambda _s, nbytes, fh: fh.read(nbytes), handle)
        stream.finish()

    def _download(self, vol, dest: str):
        stream = self.conn.newStream(0)
        vol.download(stream, 0, 0, 0)
        with open(dest, "wb") as handle:
            stream.recvAll(lambda _s, data, fh: fh.write(data), handle)
        stream.finish()

    def upload_volume(self, pool_name: str, vol_name: str, path: str, fmt: str = "raw") -> str:
        """Copy a controller file into a pool as a new volume; returns its path on the host."""
        pool = self._pool(pool_name)
        size = os.path.getsize(path)
        xml = xmlgen.volume_xml(vol_name, size, fmt="raw", allocation_bytes=0, owner=self.qemu_owner)
        vol = pool.createXML(xml, 0)
        try:
            self._upload(vol, path)
        except Exception:
            vol.delete(0)
            raise
        return vol.path()

    def download_volume(self, pool_name: str, vol_name: str, dest: str) -> None:
        vol = self._lookup_volume(pool_name, vol_name, refresh=True)
        if vol is None:
            raise ComputeError(f"Volume {vol_name} not found in pool {pool_name} on {self.uri}")
        self._download(vol, dest)

    def delete_volume(self, pool_name: str, vol_name: str) -> bool:
        vol = self._lookup_volume(pool_name, vol_name, refresh=True)
        if vol is None:
            return False
        vol.delete(0)
        return True

    # ---------------------------------------------------------------- image cache
    def cached_image(self, key: str) -> Optional[str]:
        # Refreshed: a base removed behind libvirt's back (a cleanup) must be copied again, not used.
        vol = self._lookup_volume(self.images_pool, key, refresh=True)
        return vol.path() if vol is not None else None

    def ensure_cached_image(self, key: str, source_path: str, disk_format: str = "qcow2") -> tuple:
        """The base image, copied once into the host's image cache; returns (path, copied).

        The controller's file is checked with its format forced before it is copied: QEMU on
        the host will open it as the base of every overlay (no external data file, no backing
        file; see imagecheck)."""
        path = self.cached_image(key)
        if path:
            return path, False
        try:
            imagefile.checked_info(source_path, disk_format)
        except ComputeError as exc:
            raise BuildError(f"Image {key} is not copied into the image cache on {self.uri}: {exc}") from None
        try:
            return self.upload_volume(self.images_pool, key, source_path), True
        except libvirt.libvirtError as exc:
            # Another build may have cached it in the meantime.
            path = self.cached_image(key)
            if path:
                return path, False
            raise BuildError(f"Copying image {key} into the image cache on {self.uri} failed: "
                             f"{_err(exc)}") from exc

    def evict_cached_image(self, key: str) -> bool:
        return self.delete_volume(self.images_pool, key)

    def create_overlay(self, vol_name: str, base_path: str, base_format: str, size_bytes: int) -> str:
        """A qcow2 copy-on-write disk on a cached base image, sized by the flavor."""
        pool = self._pool(self.instances_pool)
        xml = xmlgen.volume_xml(vol_name, size_bytes, fmt="qcow2", backing=(base_path, base_format),
                                owner=self.qemu_owner)
        try:
            return pool.createXML(xml, 0).path()
        except libvirt.libvirtError as exc:
            raise BuildError(f"Creating disk {vol_name} on {self.uri} failed: {_err(exc)}") from exc

    # ---------------------------------------------------------------- networks
    def network_state(self, name: str) -> Optional[dict]:
        try:
            net = self.conn.networkLookupByName(name)
        except libvirt.libvirtError:
            return None
        root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
        forward = root.find("forward")
        ip = root.find("ip")
        return {"name": name, "active": bool(net.isActive()), "autostart": bool(net.autostart()),
                "mode": (forward.get("mode") if forward is not None else "isolated"),
                "bridge": root.find("bridge").get("name") if root.find("bridge") is not None else None,
                "address": ip.get("address") if ip is not None else None,
                "prefix": ip.get("prefix") if ip is not None else None,
                "dhcp": ip is not None and ip.find("dhcp") is not None}

    def ensure_network(self, spec: xmlgen.NetworkSpec, check_mode: bool = False) -> bool:
        """The network defined, active and autostarted. Returns changed.

        An existing network with other addressing is an error rather than being redefined
        under running guests."""
        state = self.network_state(spec.name)
        changed = False
        if state is not None:
            want_mode = "bridge" if spec.mode == "bridged" else ("nat" if spec.mode == "nat" else "isolated")
            if state["mode"] != want_mode or state["bridge"] != spec.bridge or (
                    spec.cidr and state["address"] != (spec.gateway or xmlgen.default_gateway(spec.cidr))):
                raise ComputeError(
                    f"libvirt network {spec.name} on {self.uri} exists with other settings "
                    f"(mode {state['mode']}, bridge {state['bridge']}, address {state['address']}); "
                    "delete it there first")
            net = self.conn.networkLookupByName(spec.name)
        else:
            if check_mode:
                return True
            try:
                net = self.conn.networkDefineXML(xmlgen.network_xml(spec))
            except libvirt.libvirtError as exc:
                raise ComputeError(f"Defining network {spec.name} on {self.uri} failed: {_err(exc)}") from exc
            changed = True
        if not net.isActive():
            if check_mode:
                return True
            try:
                net.create()
            except libvirt.libvirtError as exc:
                if changed:  # defined just now: leave nothing half-made
                    net.undefine()
                raise ComputeError(f"Starting network {spec.name} on {self.uri} failed: {_err(exc)}") from exc
            changed = True
        if not net.autostart():
            if check_mode:
                return True
            net.setAutostart(1)
            changed = True
        return changed

    def delete_network(self, name: str, check_mode: bool = False) -> bool:
        try:
            net = self.conn.networkLookupByName(name)
        except libvirt.libvirtError:
            return False
        if check_mode:
            return True
        if net.isActive():
            net.destroy()
        net.undefine()
        return True

    def add_dhcp_host(self, network: str, host: dict) -> None:
        """Reserve ``host['ip']`` for ``host['mac']`` in the network's DHCP server (live and config)."""
        net = self.conn.networkLookupByName(network)
        self.remove_dhcp_host(network, host["mac"])
        flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
        if net.isActive():
            flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
        try:
            net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                       -1, xmlgen.dhcp_host_xml(host), flags)
        except libvirt.libvirtError as exc:
            raise BuildError(f"Reserving {host['ip']} on network {network} at {self.uri} failed: "
                             f"{_err(exc)}") from exc

    def remove_dhcp_host(self, network: str, mac: str) -> bool:
        try:
            net = self.conn.networkLookupByName(network)
        except libvirt.libvirtError:
            return False
        root = ET.fromstring(net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE))
        removed = False
        for host in root.findall("ip/dhcp/host"):
            if (host.get("mac") or "").lower() != mac.lower():
                continue
            flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
            if net.isActive():
                flags |= libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE
            net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE, libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST,
                       -1, ET.tostring(host, encoding="unicode"), flags)
            removed = True
        return removed

    def dhcp_leases(self, network: str, mac: Optional[str] = None) -> list:
        try:
            net = self.conn.networkLookupByName(network)
            return [lease["ipaddr"] for lease in net.DHCPLeases(mac) if lease.get("ipaddr")]
        except libvirt.libvirtError:
            return []

    # ---------------------------------------------------------------- domains
    def _domain(self, name: str):
        """A domain by name, or by UUID (a server id: safe even when two catalogs share a host)."""
        try:
            if _looks_like_uuid(name):
                return self.conn.lookupByUUIDString(name)
            return self.conn.lookupByName(name)
        except libvirt.libvirtError:
            return None

    def domain_uuid(self, name: str) -> Optional[str]:
        dom = self._domain(name)
        return dom.UUIDString() if dom is not None else None

    def domain_exists(self, name: str) -> bool:
        return self._domain(name) is not None

    def power_state(self, name: str) -> int:
        dom = self._domain(name)
        if dom is None:
            return NOSTATE
        return _LIBVIRT_POWER.get(dom.state()[0], NOSTATE)

    def has_managed_save(self, name: str) -> bool:
        dom = self._domain(name)
        return bool(dom is not None and dom.hasManagedSaveImage(0))

    def spawn(self, spec: xmlgen.DomainSpec, timeout: float = 60) -> None:
        """Define and start the domain, and wait until libvirt reports it running."""
        try:
            dom = self.conn.defineXML(xmlgen.domain_xml(spec))
        except libvirt.libvirtError as exc:
            raise BuildError(f"Defining domain {spec.name} on {self.uri} failed: {_err(exc)}") from exc
        try:
            dom.create()
        except libvirt.libvirtError as exc:
            raise BuildError(f"Starting domain {spec.name} on {self.uri} failed: {_err(exc)}") from exc
        self.wait_power_state(spec.name, RUNNING, timeout)

    def wait_power_state(self, name: str, wanted: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        state = self.power_state(name)
        while state != wanted:
            if time.monotonic() > deadline:
                raise ComputeError(f"Domain {name} on {self.uri} did not reach power state "
                                   f"{POWER_STATE_NAMES[wanted]} within {timeout:g} s "
                                   f"(it is {POWER_STATE_NAMES.get(state, state)})")
            time.sleep(0.1)
            state = self.power_state(name)
        return state

    def start(self, name: str, timeout: float = 60) -> None:
        dom = self._require_domain(name)
        if not dom.isActive():
            dom.create()  # restores a managed-save image when there is one (resume)
        self.wait_power_state(name, RUNNING, timeout)

    def stop(self, name: str, timeout: float = 60) -> None:
        """Clean shutdown (ACPI), then power off when the guest ignores it, as nova does."""
        dom = self._require_domain(name)
        if not dom.isActive():
            return
        try:
            dom.shutdown()
            self.wait_power_state(name, SHUTDOWN, timeout)
        except (ComputeError, libvirt.libvirtError):
            if dom.isActive():
                dom.destroy()

    def reboot(self, name: str, hard: bool = False, timeout: float = 60) -> None:
        dom = self._require_domain(name)
        if hard or not dom.isActive():
            if dom.isActive():
                dom.destroy()
        else:
            self.stop(name, timeout)
        self.start(name, timeout)

    def pause(self, name: str) -> None:
        self._require_domain(name).suspend()

    def unpause(self, name: str) -> None:
        self._require_domain(name).resume()

    def suspend(self, name: str) -> None:
        """Save the guest's memory to disk and stop it (libvirt managed save), as nova's suspend."""
        self._require_domain(name).managedSave(0)

    def _require_domain(self, name: str):
        dom = self._domain(name)
        if dom is None:
            raise ComputeError(f"Domain {name} does not exist on {self.uri}")
        return dom

    def domain_xml(self, name: str) -> Optional[str]:
        dom = self._domain(name)
        return dom.XMLDesc(0) if dom is not None else None

    def list_domains(self) -> list:
        return [d.name() for d in self.conn.listAllDomains(0)]

    def console_log(self, vol_name: str, length: Optional[int] = None) -> str:
        """The serial console log kept in the instances pool (virtlogd writes it there)."""
        vol = self._lookup_volume(self.instances_pool, vol_name, refresh=True)
        if vol is None:
            return ""
        import tempfile

        with tempfile.NamedTemporaryFile() as tmp:
            self._download(vol, tmp.name)
            data = open(tmp.name, "rb").read().decode("utf-8", "replace")
        if length:
            data = "\n".join(data.splitlines()[-length:]) + "\n"
        return data

    def destroy(self, name: str, volume_prefix: str, networks_macs: tuple = ()) -> list:
        """Remove every trace of an instance: domain (with managed save and NVRAM), its volumes
        (disk, config drive, console log, snapshots in progress) and its DHCP reservations.
        Returns what was removed."""
        removed = []
        # The DHCP reservations go in parallel with the domain: each is a slow libvirt call
        # (dnsmasq restarted; QEMU reaped), independent of the other.
        dhcp = _Background(lambda: [f"dhcp host {mac} on {network}" for network, mac in networks_macs
                                    if self.remove_dhcp_host(network, mac)])
        dom = self._domain(name)
        if dom is not None:
            try:
                if dom.isActive():
                    dom.destroy()
            except libvirt.libvirtError:
                pass
            flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                     | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
            try:
                dom.undefineFlags(flags)
            except libvirt.libvirtError:
                dom.undefine()
            removed.append(f"domain {name}")
        try:
            pool = self._pool(self.instances_pool)
            pool.refresh(0)
            for vol_name in pool.listVolumes():
                if vol_name.startswith(volume_prefix):
                    pool.storageVolLookupByName(vol_name).delete(0)
                    removed.append(f"volume {vol_name}")
        except ComputeError:
            pass
        removed.extend(dhcp.result())
        return removed

    def instance_volumes(self, volume_prefix: str) -> list:
        pool = self._pool(self.instances_pool)
        pool.refresh(0)
        return [v for v in pool.listVolumes() if v.startswith(volume_prefix)]

    # ---------------------------------------------------------------- snapshots
    def snapshot_disk(self, name: str, disk_vol: str, snap_vol: str, dest: str, timeout: float = 600) -> None:
        """Copy the instance's disk, flattened onto its base, to ``dest`` on the controller.

        A running guest is copied live with a block copy job that is then aborted (nova's live
        snapshot); a stopped one with qemu-img convert through the storage pool."""
        dom = self._require_domain(name)
        pool = self._pool(self.instances_pool)
        self.delete_volume(self.instances_pool, snap_vol)
        disk = self._lookup_volume(self.instances_pool, disk_vol, refresh=True)
        snap_path = os.path.join(os.path.dirname(disk.path()), snap_vol)
        try:
            if dom.isActive():
                dest_xml = (f"<disk type='file'><source file='{snap_path}'/>"
                            "<driver type='qcow2'/></disk>")
                flags = getattr(libvirt, "VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB", 4)
                dom.blockCopy("vda", dest_xml, None, flags)
                deadline = time.monotonic() + timeout
                while True:
                    info = dom.blockJobInfo("vda", 0)
                    if info and info.get("end", 0) > 0 and info["cur"] == info["end"]:
                        break
                    if not info:
                        raise ComputeError(f"The block copy of {name} ended unexpectedly")
                    if time.monotonic() > deadline:
                        dom.blockJobAbort("vda", 0)
                        raise ComputeError(f"The snapshot of {name} took longer than {timeout} s")
                    time.sleep(0.2)
                # Aborting (not pivoting) leaves the guest on its disk and the copy as it was.
                dom.blockJobAbort("vda", 0)
            else:
                src = self._lookup_volume(self.instances_pool, disk_vol, refresh=True)
                capacity = src.info()[1]
                pool.createXMLFrom(xmlgen.volume_xml(snap_vol, capacity, fmt="qcow2", owner=self.qemu_owner),
                                   src, 0)
            self.download_volume(self.instances_pool, snap_vol, dest)
        except libvirt.libvirtError as exc:
            raise ComputeError(f"Snapshot of {name} on {self.uri} failed: {_err(exc)}") from exc
        finally:
            try:
                self.delete_volume(self.instances_pool, snap_vol)
            except Exception:
                pass
