# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe a lab host as a compute host: libvirt-python over qemu+ssh from this machine.

  .venv/bin/python lab/probe_compute.py IP [--key lab/state/id_ed25519] [--boot IMAGE.qcow2]

Always: connect, check that the QEMU driver offers TCG (domain type 'qemu'), then define,
start, destroy and undefine a diskless guest. With --boot: copy the image to the host,
start libvirt's NAT network there, boot the guest under TCG and wait for the image's
"login ready" line on its serial console. Prints one JSON object with the timings;
exits 1 (with the reason in "error") when a step fails. Everything it made is removed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parent.parent
PROBE = "ministack-lab-probe"
DISK = f"/var/lib/libvirt/images/{PROBE}.qcow2"
SERIAL_LOG = f"/var/log/libvirt/qemu/{PROBE}-serial.log"

DISKLESS_XML = f"""<domain type='qemu'>
  <name>{PROBE}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='network'/></os>
  <devices><serial type='pty'/><console type='pty'/></devices>
</domain>"""

BOOT_XML = f"""<domain type='qemu'>
  <name>{PROBE}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{DISK}'/><target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
    <serial type='file'><source path='{SERIAL_LOG}'/></serial>
  </devices>
</domain>"""


class Probe:
    def __init__(self, ip: str, key: Path) -> None:
        self.ip = ip
        self.key = key.resolve()
        self.uri = f"qemu+ssh://root@{ip}/system?keyfile={self.key}&no_verify=1"
        self.timings: dict[str, float] = {}
        self.conn: libvirt.virConnect | None = None

    def timed(self, name: str, func, *args):
        start = time.monotonic()
        value = func(*args)
        self.timings[name] = round(time.monotonic() - start, 2)
        return value

    def ssh(self, command: str, stdin: bytes | None = None) -> bytes:
        argv = ["ssh", "-i", str(self.key), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", f"root@{self.ip}", command]
        return subprocess.run(argv, input=stdin, capture_output=True, check=True, timeout=120).stdout

    def connect(self) -> None:
        self.conn = self.timed("connect_s", libvirt.open, self.uri)
        caps = self.conn.getCapabilities()
        if "<domain type='qemu'" not in caps:
            raise RuntimeError("the QEMU driver on the host offers no TCG ('qemu') domains")

    def cleanup(self) -> None:
        try:
            dom = self.conn.lookupByName(PROBE)
        except libvirt.libvirtError:
            return
        if dom.isActive():
            dom.destroy()
        dom.undefine()

    def diskless(self) -> None:
        self.cleanup()
        dom = self.timed("define_s", self.conn.defineXML, DISKLESS_XML)
        self.timed("start_s", dom.create)
        state = dom.state()[0]
        if state != libvirt.VIR_DOMAIN_RUNNING:
            raise RuntimeError(f"the diskless guest is in state {state}, not running")
        self.timed("destroy_s", dom.destroy)
        self.timed("undefine_s", dom.undefine)

    def boot(self, image: Path, timeout: float = 120.0) -> str:
        self.cleanup()
        data = image.read_bytes()
        self.timed("copy_image_s", self.ssh, f"cat > {DISK}", data)
        network = self.conn.networkLookupByName("default")
        was_active = network.isActive()
        if not was_active:
            self.timed("network_start_s", network.create)
        self.ssh(f"rm -f {SERIAL_LOG}")
        dom = self.conn.defineXML(BOOT_XML)
        try:
            started = time.monotonic()
            dom.create()
            line = ""
            while time.monotonic() - started < timeout:
                console = self.ssh(f"cat {SERIAL_LOG} 2>/dev/null || true").decode(errors="replace")
                ready = [entry for entry in console.splitlines() if "login ready" in entry]
                if ready:
                    line = ready[0].strip()
                    break
                time.sleep(1)
            self.timings["boot_to_login_s"] = round(time.monotonic() - started, 1)
            if not line:
                raise RuntimeError(f"no 'login ready' line within {timeout:.0f}s; console tail: "
                                   f"{console[-400:]!r}")
            return line
        finally:
            self.cleanup()
            if not was_active:
                network.destroy()
            self.ssh(f"rm -f {DISK} {SERIAL_LOG}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("ip")
    parser.add_argument("--key", type=Path, default=ROOT / "lab" / "state" / "id_ed25519")
    parser.add_argument("--boot", type=Path, metavar="IMAGE", help="boot this qcow2 (the ministack test image)")
    args = parser.parse_args()
    # Lookups that are expected to miss would otherwise print to stderr.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    probe = Probe(args.ip, args.key)
    result: dict[str, object] = {"uri": probe.uri, "ok": False}
    try:
        probe.connect()
        result["libvirt_version"] = probe.conn.getLibVersion()
        result["hypervisor"] = probe.conn.getType()
        probe.diskless()
        if args.boot:
            result["login_line"] = probe.boot(args.boot)
        result["ok"] = True
    except (libvirt.libvirtError, RuntimeError, subprocess.SubprocessError, OSError) as exc:
        result["error"] = str(exc)
    finally:
        if probe.conn is not None:
            probe.conn.close()
    result["timings"] = probe.timings
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
