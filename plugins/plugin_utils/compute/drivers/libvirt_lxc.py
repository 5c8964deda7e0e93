# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux containers through libvirt LXC (``lxc:///system``; Nova's libvirt driver with virt_type lxc).

- Image: a root filesystem tarball (registered with ``disk_format: raw``, ``container_format:
  compressed`` and property ``hypervisor_type=lxc``), cached once per host in the image pool
  like a QEMU base image, unpacked per server into ``<instances pool>/<server id>.rootfs``.
- Metadata: no config drive device. As Nova injects data into an LXC root filesystem, the
  driver writes the hostname, root's ``authorized_keys`` and the config drive's files
  (``/var/lib/cloud/seed/config_drive/openstack/latest/``, cloud-init's ConfigDrive seed) into it.
- Limits: the flavor's RAM is the memory cgroup's limit, its vCPUs the CPU bandwidth quota
  (vcpus x period) and shares (1024 per vCPU), as libvirt's LXC driver applies them.
- Network: a veth on the same libvirt network (and DHCP reservation) as a QEMU guest.
- Console: LXC has pty consoles only. The host keeps what the pty prints in
  ``<server id>.console.log`` in the instances pool (a reader started on the host at each
  start), so ``server_console`` reads it the way it reads QEMU's serial log.
- Not supported (NotSupported): suspend (no managed save), snapshot, volume attach (QEMU's
  iSCSI client attaches volumes), migrate.

Host-side file work (unpack, inject, remove, the console reader) goes through the one host
runner, reached the way the libvirt URI says (``lxc:///system``: this machine;
``lxc+ssh://user@host/system?keyfile=...``: over SSH)."""

from __future__ import annotations

import json
import os
import posixpath
import time
import xml.etree.ElementTree as ET
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from ... import hostrunner
from .. import BuildError, ComputeError
from ..driver import RUNNING, SHUTDOWN, _err, libvirt
from ..images import image_path
from ..xmlgen import METADATA_NS
from .base import Guest, register
from .libvirt_common import LibvirtDriver

CPU_PERIOD_US = 100000
CONSOLE_READER = ('stty -F "$1" raw -echo >/dev/null 2>&1; '
                  'exec cat "$1" >>"$2" 2>/dev/null </dev/null')


def lxc_domain_xml(guest: Guest, rootfs: str, init: str = "/sbin/init") -> str:
    """A libvirt LXC domain: the root filesystem as /, cgroup limits from the flavor, veths, a pty console."""
    dom = ET.Element("domain", type="lxc")
    ET.SubElement(dom, "name").text = guest.instance_name
    ET.SubElement(dom, "uuid").text = guest.id
    meta = ET.SubElement(ET.SubElement(dom, "metadata"), f"{{{METADATA_NS}}}instance")
    for key, value in sorted(guest.domain_metadata().items()):
        ET.SubElement(meta, f"{{{METADATA_NS}}}{key}").text = "" if value is None else str(value)
    ET.SubElement(dom, "memory", unit="MiB").text = str(guest.memory_mb)
    ET.SubElement(dom, "currentMemory", unit="MiB").text = str(guest.memory_mb)
    ET.SubElement(dom, "vcpu").text = str(guest.vcpus)
    tune = ET.SubElement(dom, "cputune")
    ET.SubElement(tune, "shares").text = str(1024 * guest.vcpus)
    ET.SubElement(tune, "period").text = str(CPU_PERIOD_US)
    ET.SubElement(tune, "quota").text = str(CPU_PERIOD_US * guest.vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type").text = "exe"
    ET.SubElement(os_el, "init").text = init
    ET.SubElement(dom, "clock", offset="utc")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    ET.SubElement(devices, "emulator").text = "/usr/lib/libvirt/libvirt_lxc"
    fs = ET.SubElement(devices, "filesystem", type="mount", accessmode="passthrough")
    ET.SubElement(fs, "source", dir=rootfs)
    ET.SubElement(fs, "target", dir="/")
    for port in guest.ports:
        nic = ET.SubElement(devices, "interface", type="network")
        ET.SubElement(nic, "mac", address=port["mac_address"])
        ET.SubElement(nic, "source", network=port["libvirt_network"])
    console = ET.SubElement(devices, "console", type="pty")
    ET.SubElement(console, "target", type="lxc", port="0")
    ET.register_namespace("ministack", METADATA_NS)
    return ET.tostring(dom, encoding="unicode")


def runner_spec_for_uri(uri: str) -> dict:
    """How to run host commands where an ``lxc[+ssh]://`` URI points."""
    parts = urlsplit(uri)
    transport = parts.scheme.partition("+")[2]
    if not transport and not parts.hostname:
        return {"connection": "local"}
    if transport not in ("", "ssh", "libssh", "libssh2"):
        raise ComputeError(f"libvirt_uri {uri}: the LXC driver reaches remote hosts over lxc+ssh://, "
                           "lxc+libssh2:// or lxc+libssh:// only (it runs tar and the console reader there)")
    spec = {"connection": "ssh", "address": parts.hostname}
    if parts.username:
        spec["user"] = parts.username
    if parts.port:
        spec["port"] = parts.port
    query = parse_qs(parts.query)
    if query.get("keyfile"):
        spec["identity_file"] = query["keyfile"][0]
    if query.get("known_hosts"):
        spec["known_hosts"] = query["known_hosts"][0]
    if query.get("no_verify", ["0"])[0] == "1":
        spec["host_key_checking"] = False
    return spec


@register("LXC")
class LibvirtLxcDriver(LibvirtDriver):
    hypervisor_type = "LXC"
    default_uri = "lxc:///system"

    @property
    def runner(self):
        if getattr(self, "_runner", None) is None:
            self._runner = hostrunner.runner_for(runner_spec_for_uri(self.uri), timeout=300)
        return self._runner

    def _run(self, argv, what, **kw):
        try:
            return self.runner.run(argv, **kw)
        except hostrunner.HostCommandFailed as exc:
            raise BuildError(f"{what} on {self.host or self.uri} failed: {exc}") from exc

    def capacity(self) -> dict:
        found = super().capacity()
        found["hypervisor_type"] = "LXC"
        return found

    def _rootfs(self, server_id: str) -> str:
        return posixpath.join(self.pool_path(self.instances_pool), f"{server_id}.rootfs")

    # ---------------------------------------------------------------- build
    def prepare_root_disk(self, guest: Guest) -> str:
        image = guest.image
        cached, _copied = self.ensure_cached_image(image["checksum"], image_path(image), image["disk_format"])
        rootfs = self._rootfs(guest.id)
        self._run(["rm", "-rf", "--one-file-system", rootfs], "Clearing an old root filesystem")
        self._run(["mkdir", "-m", "0755", rootfs], "Creating the root filesystem")
        res = self.runner.run(["tar", "-x", "-f", cached, "-C", rootfs, "--numeric-owner"], check=False)
        if res.rc != 0:
            raise BuildError(f"Image {image['name']} ({image['id']}) is not a root filesystem tarball that tar can "
                             f"unpack on {self.host or self.uri}: {(res.stderr or '').strip()[-300:]}. LXC images are "
                             "tar archives (container_format: compressed, property hypervisor_type=lxc).")
        # /sbin/init is often an absolute symlink (to /bin/busybox): resolved inside the container only.
        init = posixpath.join(rootfs, "sbin/init")
        if self.runner.run(["sh", "-c", 'test -L "$1" || test -x "$1"', "init", init], check=False).rc != 0:
            raise BuildError(f"Image {image['name']} has no executable /sbin/init: LXC starts the container with it.")
        return rootfs

    def config_drive(self, guest: Guest) -> Optional[str]:
        """No device: the metadata goes into the root filesystem (Nova's LXC key injection)."""
        rootfs = self._rootfs(guest.id)
        seed = posixpath.join(rootfs, "var/lib/cloud/seed/config_drive/openstack/latest")
        self._run(["mkdir", "-p", posixpath.join(rootfs, "root/.ssh"), seed, posixpath.join(rootfs, "etc")],
                  "Injecting metadata")
        self._run(["chmod", "0700", posixpath.join(rootfs, "root/.ssh")], "Injecting metadata")
        keys = "".join(f"{key.strip()}\n" for key in guest.public_keys.values())
        self.runner.write_file(posixpath.join(rootfs, "root/.ssh/authorized_keys"), keys, mode="0600")
        self.runner.write_file(posixpath.join(rootfs, "etc/hostname"), guest.hostname + "\n", mode="0644")
        self.runner.write_file(posixpath.join(seed, "meta_data.json"), json.dumps(guest.meta_data()), mode="0644")
        self.runner.write_file(posixpath.join(seed, "network_data.json"), json.dumps(guest.network_data()),
                               mode="0644")
        if guest.user_data:
            self.runner.write_file(posixpath.join(seed, "user_data"), guest.user_data, mode="0600")
        return None

    def spawn(self, guest: Guest, root: str, config_drive: Optional[str], timeout: float) -> None:
        try:
            dom = self.conn.defineXML(lxc_domain_xml(guest, root))
        except libvirt.libvirtError as exc:
            raise BuildError(f"Defining container {guest.instance_name} on {self.uri} failed: {_err(exc)}") from exc
        try:
            dom.create()
        except libvirt.libvirtError as exc:
            raise BuildError(f"Starting container {guest.instance_name} on {self.uri} failed: {_err(exc)}") from exc
        self._read_console(dom, guest.id)
        self.wait_power_state(guest.id, RUNNING, timeout)

    # ---------------------------------------------------------------- console
    def _read_console(self, dom, server_id: str) -> None:
        """Start the host-side reader that appends what the container's pty prints to its log."""
        root = ET.fromstring(dom.XMLDesc(0))
        pty = root.find("./devices/console[@type='pty']/source")
        path = pty.get("path") if pty is not None else None
        if not path:
            return
        log = posixpath.join(self.pool_path(self.instances_pool), f"{server_id}.console.log")
        self._run(["setsid", "-f", "sh", "-c", CONSOLE_READER, "ministack-console", path, log],
                  "Starting the console reader")

    # ---------------------------------------------------------------- lifecycle
    def start(self, name: str, timeout: float = 60) -> None:
        dom = self._require_domain(name)
        if not dom.isActive():
            dom.create()
            self._read_console(dom, dom.UUIDString())
        self.wait_power_state(name, RUNNING, timeout)

    def stop(self, name: str, timeout: float = 60) -> None:
        """Ask init to power off (initctl, then SIGUSR2: busybox init's poweroff); destroy if it does not."""
        dom = self._require_domain(name)
        if not dom.isActive():
            return
        for ask in (lambda: dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_INITCTL),
                    lambda: dom.sendProcessSignal(1, libvirt.VIR_DOMAIN_PROCESS_SIGNAL_USR2, 0)):
            try:
                ask()
            except libvirt.libvirtError:
                continue
            deadline = time.monotonic() + min(timeout, 10)
            while time.monotonic() < deadline:
                if self.power_state(name) == SHUTDOWN or not dom.isActive():
                    return
                time.sleep(0.2)
        if dom.isActive():
            dom.destroy()

    def suspend(self, name: str) -> None:
        raise self.not_supported("suspend", "LXC has no managed save; use stop.")

    def snapshot_disk(self, name, disk_vol, snap_vol, dest, timeout=600):
        raise self.not_supported("snapshot (createImage)", "An LXC server's root filesystem is a directory.")

    def volume_attacher(self, cache: str = "none", io: str = "native"):
        raise self.not_supported("attach volume", "Volumes attach through QEMU's iSCSI client: use a QEMU server.")

    def destroy(self, name: str, volume_prefix: str, networks_macs: tuple = ()) -> list:
        removed = []
        dom = self._domain(name)
        if dom is not None and dom.isActive():
            try:
                dom.destroy()
            except libvirt.libvirtError:
                pass
        try:
            rootfs = self._rootfs(name)
        except ComputeError:
            rootfs = None
        if rootfs and os.path.basename(rootfs).endswith(".rootfs"):
            if self.runner.run(["test", "-d", rootfs], check=False).rc == 0:
                self._run(["rm", "-rf", "--one-file-system", rootfs], "Removing the root filesystem")
                removed.append(f"root filesystem {rootfs}")
        return removed + super().destroy(name, volume_prefix, networks_macs)
