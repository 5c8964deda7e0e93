"""Helpers for tests that boot the ministack test image (see docs/test-image.md).

Plain Python and the system tools (ssh, ssh-keygen, genisoimage, qemu-img); libvirt-python
only where a function takes a libvirt object. Typical use::

    from tests.helpers import guest

    image = guest.ensure_test_image()
    priv, pub = guest.generate_ssh_keypair(workdir)
    ... define a domain with <serial type='file'> and a config drive ...
    guest.wait_for_console(log_path, guest.LOGIN_READY, timeout=120)
    ip = guest.wait_for_lease(network, mac)
    print(guest.ssh_run(ip, priv, "hostname").stdout)

The guest prints ``ministack-test: login ready: hostname=H ip=A ...`` on ttyS0 once root's
keys are installed, dropbear listens and the user_data script has run.
"""

from __future__ import annotations

import ipaddress
import os
import pathlib
import random
import re
import shlex
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "images" / "build-test-image.sh"
TEST_IMAGE = ROOT / ".cache" / "images" / "ministack-test.qcow2"
# libvirt runs QEMU as libvirt-qemu: guest files must sit under directories that user can
# traverse, which pytest's tmp_path (/tmp/pytest-of-root, mode 0700) is not.
VM_WORK_ROOT = ROOT / ".cache" / "vm"
LOGIN_READY = re.compile(r"login ready")

SSH_OPTIONS = (
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "ConnectTimeout=10",
    "-o", "ServerAliveInterval=5",
)


class GuestError(RuntimeError):
    """A guest did not do what the test waited for; the message says what and for how long."""


def ensure_test_image(force: bool = False) -> pathlib.Path:
    """Return the path of the test image, building it first when it is missing or stale.

    The build script does the staleness check (a stamp over its inputs), so calling this
    from every test costs ~30 ms once the image exists.
    """
    cmd = [str(BUILD_SCRIPT)] + (["--force"] if force else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not TEST_IMAGE.exists():
        raise GuestError(
            f"building the test image failed (exit {proc.returncode}): {BUILD_SCRIPT}\n"
            f"{proc.stdout}{proc.stderr}"
        )
    return TEST_IMAGE


def make_workdir(prefix: str = "guest-") -> pathlib.Path:
    """A fresh directory for overlays, seeds and console logs that QEMU (libvirt-qemu) can reach."""
    VM_WORK_ROOT.mkdir(parents=True, exist_ok=True)
    os.chmod(VM_WORK_ROOT, 0o755)
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=VM_WORK_ROOT))
    os.chmod(path, 0o755)
    return path


def make_overlay(base: pathlib.Path, path: pathlib.Path, size: str | None = None) -> pathlib.Path:
    """Create a qcow2 overlay on ``base`` (optionally grown to ``size``, e.g. "1G")."""
    cmd = ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(path)]
    if size:
        cmd.append(size)
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return path


def generate_ssh_keypair(
    directory: str | os.PathLike, key_type: str = "ed25519", name: str | None = None
) -> tuple[pathlib.Path, pathlib.Path]:
    """Make a passphrase-less key pair with ssh-keygen; returns (private, public) paths.

    ed25519, ecdsa and rsa keys all work with the image's dropbear (2022.83).
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    priv = directory / (name or f"id_{key_type}")
    for stale in (priv, priv.with_name(priv.name + ".pub")):
        stale.unlink(missing_ok=True)
    cmd = ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", f"ministack-test-{key_type}", "-f", str(priv)]
    if key_type == "rsa":
        cmd[4:4] = ["-b", "2048"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return priv, priv.with_name(priv.name + ".pub")


def make_nocloud_seed(
    path: str | os.PathLike,
    meta_data: dict[str, Any],
    user_data: str | None = None,
    network_config: str | None = None,
) -> pathlib.Path:
    """Write a NoCloud seed ISO (volume label ``cidata``) with meta-data/user-data files.

    ``meta_data`` keys become ``key: value`` lines; a list value (e.g. ``public-keys``)
    becomes a YAML list. The image reads ``local-hostname``/``hostname`` and any SSH keys.
    """
    path = pathlib.Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp)
        lines = []
        for key, value in meta_data.items():
            if isinstance(value, (list, tuple)):
                lines.append(f"{key}:")
                lines.extend(f"  - {str(v).strip()}" for v in value)
            else:
                lines.append(f"{key}: {value}")
        (src / "meta-data").write_text("\n".join(lines) + "\n")
        (src / "user-data").write_text(user_data or "")
        if network_config is not None:
            (src / "network-config").write_text(network_config)
        _make_iso(src, path, "cidata")
    return path


def _make_iso(src: pathlib.Path, path: pathlib.Path, label: str) -> None:
    proc = subprocess.run(
        ["genisoimage", "-quiet", "-o", str(path), "-V", label, "-J", "-r", str(src)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise GuestError(f"genisoimage failed for {path}: {proc.stderr.strip()}")


def _serial_source(domain: Any) -> tuple[str, pathlib.Path]:
    """("file" or "pty", path) of a running domain's first serial device with a source."""
    root = ET.fromstring(domain.XMLDesc(0))
    for serial in root.findall("./devices/serial"):
        source = serial.find("source")
        if serial.get("type") in ("file", "pty") and source is not None and source.get("path"):
            return serial.get("type"), pathlib.Path(source.get("path"))
    raise GuestError(f"domain {domain.name()} has no <serial type='file'> or running pty console")


def serial_log_path(domain: Any) -> pathlib.Path:
    """The file behind a libvirt domain's first ``<serial type='file'>`` device."""
    kind, path = _serial_source(domain)
    if kind != "file":
        raise GuestError(f"domain {domain.name()} has a {kind} console, not a <serial type='file'> log")
    return path


def wait_for_console(
    domain_or_logfile: Any,
    pattern: str | re.Pattern[str] = LOGIN_READY,
    timeout: float = 120.0,
    offset: int = 0,
) -> str:
    """Wait until a console line matches ``pattern``; return that line.

    ``domain_or_logfile`` is a console log path, or a local libvirt domain: its ``<serial
    type='file'>`` log is read, or its pty is read directly (only output from now on: call
    this right after starting the domain). ``offset`` skips bytes already in a log (e.g. the
    previous boot's, before a reboot). Raises GuestError with the console's tail when the
    timeout expires or the domain stops.
    """
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    domain = None
    if isinstance(domain_or_logfile, (str, os.PathLike)):
        logfile = pathlib.Path(domain_or_logfile)
    else:
        domain = domain_or_logfile
        kind, logfile = _serial_source(domain)
        if kind == "pty":
            return _wait_on_pty(domain, logfile, regex, timeout)
    deadline = time.monotonic() + timeout
    text = ""
    while True:
        if logfile.exists():
            with open(logfile, "rb") as handle:
                handle.seek(offset)
                text = handle.read().decode("utf-8", "replace")
            for line in text.splitlines():
                if regex.search(line):
                    return line
        if domain is not None and not _is_active(domain):
            raise GuestError(f"domain {domain.name()} stopped before {regex.pattern!r}:\n{text[-2000:]}")
        if time.monotonic() > deadline:
            raise GuestError(
                f"no console line matched {regex.pattern!r} within {timeout:.0f} s ({logfile}):\n{text[-2000:]}"
            )
        time.sleep(0.2)


def _is_active(domain: Any) -> bool:
    try:
        return bool(domain.isActive())
    except Exception:  # a transient domain that stopped no longer exists
        return False


def _wait_on_pty(domain: Any, pty: pathlib.Path, regex: re.Pattern[str], timeout: float) -> str:
    import select
    import termios
    import tty

    fd = os.open(pty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd, termios.TCSANOW)
        deadline = time.monotonic() + timeout
        buf = ""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                if not _is_active(domain):
                    break
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:  # EIO: QEMU closed its side (the guest stopped)
                break
            buf += data.decode("utf-8", "replace")
            *lines, buf = buf.split("\n")
            for line in lines:
                if regex.search(line):
                    return line.rstrip("\r")
        raise GuestError(
            f"no console line of {domain.name()} matched {regex.pattern!r} within {timeout:.0f} s ({pty}):\n"
            f"{buf[-2000:]}"
        )
    finally:
        os.close(fd)


def wait_for_lease(network: Any, mac: str, timeout: float = 60.0) -> str:
    """The IPv4 address a libvirt network's DHCP server leased to ``mac``."""
    deadline = time.monotonic() + timeout
    while True:
        for lease in network.DHCPLeases():
            if lease.get("mac", "").lower() == mac.lower() and lease.get("type") == 0:  # IPv4
                return lease["ipaddr"]
        if time.monotonic() > deadline:
            raise GuestError(f"no DHCP lease for {mac} on network {network.name()} within {timeout:.0f} s")
        time.sleep(0.3)


def ssh_command(
    ip: str,
    private_key_path: str | os.PathLike,
    command: str,
    jump: str | None = None,
    jump_key: str | os.PathLike | None = None,
    user: str = "root",
) -> list[str]:
    """The ssh argv ssh_run uses (handy for scp-like pipes)."""
    cmd = ["ssh", *SSH_OPTIONS, "-i", str(private_key_path)]
    if jump:
        # A ProxyCommand rather than -J: -J does not pass our -o options to the jump hop.
        hop = ["ssh", *SSH_OPTIONS, "-i", str(jump_key or private_key_path), "-W", "%h:%p", jump]
        cmd += ["-o", "ProxyCommand=" + shlex.join(hop)]
    cmd += [f"{user}@{ip}", command]
    return cmd


def ssh_run(
    ip: str,
    private_key_path: str | os.PathLike,
    command: str,
    jump: str | None = None,
    timeout: float = 60.0,
    *,
    jump_key: str | os.PathLike | None = None,
    user: str = "root",
    check: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on the guest over SSH with the system client; host keys are not checked.

    ``jump`` ("user@host") reaches a guest behind a compute host (e.g. a lab container).
    With ``check`` a non-zero exit raises GuestError carrying stdout and stderr.
    """
    cmd = ssh_command(ip, private_key_path, command, jump=jump, jump_key=jump_key, user=user)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GuestError(f"ssh {user}@{ip} {command!r} did not finish within {timeout:.0f} s") from exc
    if check and proc.returncode != 0:
        raise GuestError(
            f"ssh {user}@{ip} {command!r} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def wait_for_ssh(
    ip: str,
    private_key_path: str | os.PathLike,
    timeout: float = 60.0,
    jump: str | None = None,
    jump_key: str | os.PathLike | None = None,
) -> float:
    """Retry a no-op command until SSH login works; returns the seconds it took."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        proc = ssh_run(ip, private_key_path, "true", jump=jump, jump_key=jump_key, timeout=20, check=False)
        if proc.returncode == 0:
            return time.monotonic() - start
        last = proc.stderr.strip()
        time.sleep(0.5)
    raise GuestError(f"SSH to root@{ip} did not succeed within {timeout:.0f} s: {last}")


def used_ipv4_networks(conn: Any = None) -> list[ipaddress.IPv4Network]:
    """Subnets routed on this machine plus those of every libvirt network (active or not)."""
    nets = []
    out = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        first = line.split()[0] if line.split() else ""
        if first != "default":
            try:
                nets.append(ipaddress.IPv4Network(first, strict=False))
            except ValueError:
                pass
    if conn is not None:
        for net in conn.listAllNetworks():
            for ip in ET.fromstring(net.XMLDesc(0)).findall("ip"):
                addr = ip.get("address")
                if not addr or ":" in addr:
                    continue
                prefix = ip.get("prefix") or ip.get("netmask") or "24"
                nets.append(ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False))
    return nets


def free_subnet(conn: Any = None, base: str = "10.213.0.0/16") -> ipaddress.IPv4Network:
    """A /24 inside ``base`` that no route and no libvirt network uses (randomised, so that
    tests running at once rarely pick the same one)."""
    used = used_ipv4_networks(conn)
    candidates = list(ipaddress.IPv4Network(base).subnets(new_prefix=24))
    random.shuffle(candidates)
    for cand in candidates:
        if not any(cand.overlaps(u) for u in used):
            return cand
    raise GuestError(f"no free /24 left in {base}")


def create_nat_network(
    conn: Any, name: str, subnet: ipaddress.IPv4Network | None = None, dhcp_ping: bool = False
) -> Any:
    """Define and start a transient libvirt NAT network with DHCP. Destroy it when done.

    DHCP hands out .2-.199; .200 and up are left for static addresses (network_data.json).

    Two settings save boot time: STP off (with STP a new port waits ~4 s before forwarding)
    and, unless ``dhcp_ping``, dnsmasq's no-ping (dnsmasq otherwise pings a free address
    and ignores DISCOVERs until the ping times out: ~3 s more per boot).
    """
    subnet = subnet or free_subnet(conn)
    hosts = list(subnet.hosts())
    bridge = "msb" + format(abs(hash(name)) % 0xFFFFFFFF, "x")[:8]
    options = "" if dhcp_ping else """
  <dnsmasq:options><dnsmasq:option value='no-ping'/></dnsmasq:options>"""
    xml = f"""<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>{name}</name>
  <forward mode='nat'/>
  <bridge name='{bridge}' stp='off' delay='0'/>
  <ip address='{hosts[0]}' netmask='{subnet.netmask}'>
    <dhcp><range start='{hosts[1]}' end='{hosts[198]}'/></dhcp>
  </ip>{options}
</network>"""
    return conn.networkCreateXML(xml)


def random_mac() -> str:
    """A locally administered MAC in QEMU's 52:54:00 range."""
    return "52:54:00:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))


def domain_xml(
    name: str,
    disk: pathlib.Path,
    console_log: pathlib.Path | None,
    network: str | None = None,
    mac: str | None = None,
    cdrom: pathlib.Path | None = None,
    memory_mib: int = 256,
    domain_type: str = "qemu",
) -> str:
    """A minimal domain for the test image: virtio disk, optional IDE CD-ROM (the cloud
    kernel has no AHCI driver, so SATA CD-ROMs are invisible), virtio NIC, and a serial console
    logged to ``console_log`` (a pty when it is None)."""
    serial = "<serial type='pty'>" if console_log is None else f"<serial type='file'>\n      <source path='{console_log}'/>"
    cd = ""
    if cdrom is not None:
        cd = f"""
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='{cdrom}'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>"""
    nic = ""
    if network is not None:
        nic = f"""
    <interface type='network'>
      <source network='{network}'/>
      {f"<mac address='{mac}'/>" if mac else ""}
      <model type='virtio'/>
    </interface>"""
    return f"""<domain type='{domain_type}'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>{cd}{nic}
    {serial}
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>"""
