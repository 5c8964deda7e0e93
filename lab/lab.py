# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ministack multi-host lab: Debian hosts as podman containers on this machine.

  lab/lab up N [--compute K] [--block K] [--object K]   create or keep hosts h1..hN
  lab/lab status                                        each host: state, IP, ssh, systemd
  lab/lab down                                          remove the hosts and the network
  lab/lab ssh hN [command...]                           a shell (or a command) on a host
  lab/lab image                                         build the host image if needed, print it
  lab/lab molecule ROLE [molecule args...]              run a role's molecule scenario

Each host runs systemd, sshd, libvirtd + QEMU (TCG) and tgtd, and is reached over SSH as
root with the lab's own key (lab/state/id_ed25519). `up` writes lab/state/inventory.yml.
MINISTACK_LAB=NAME selects another, independent lab (its own containers, network, subnet
and lab/state/NAME/).
Only the Python standard library is used, so any python3 runs it. docs/lab.md has more.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
ROOT = LAB_DIR.parent
BUILD_SCRIPT = LAB_DIR / "build-host-image.sh"


def _lab_name() -> str:
    name = os.environ.get("MINISTACK_LAB", "lab")
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", name):
        sys.exit(f"[lab] ERROR: MINISTACK_LAB={name!r} is not a valid lab name: "
                 "give 1-16 lower-case letters and digits, starting with a letter")
    return name


# MINISTACK_LAB names a lab, so that several can live side by side (the tests use their
# own and leave the developer's alone). The default lab is "lab": ministack-h1...,
# network ministack-lab, 10.89.77.0/24, state in lab/state/.
LAB_NAME = _lab_name()
if LAB_NAME == "lab":
    STATE = LAB_DIR / "state"
    PREFIX = "ministack-"
    SUBNET = ipaddress.ip_network("10.89.77.0/24")
else:
    STATE = LAB_DIR / "state" / LAB_NAME
    PREFIX = f"ministack-{LAB_NAME}-"
    SUBNET = ipaddress.ip_network(f"10.89.{78 + zlib.crc32(LAB_NAME.encode()) % 100}.0/24")
NETWORK = f"ministack-{LAB_NAME}"
GATEWAY = SUBNET.network_address + 1
LABEL = f"ministack.lab={LAB_NAME}"
KEY = STATE / "id_ed25519"
# The controller's known_hosts file for this lab (ministack_known_hosts in the inventory):
# every connection (lab/lab's own ssh, Ansible's, libvirt's, the block runner's) checks the
# hosts' keys against it with StrictHostKeyChecking=yes.
KNOWN_HOSTS = STATE / "known_hosts"
INVENTORY = STATE / "inventory.yml"
SSH_CONFIG = STATE / "ssh_config"
FIRST_HOST_OFFSET = 10  # h1 is .11, h2 is .12, ...
MAX_HOSTS = 200

# What libvirtd + QEMU need inside an unprivileged container (docs/lab.md): a writable
# /proc/sys for the bridge, NET_ADMIN for the bridge and iptables, the tun device for taps.
HOST_RUN_FLAGS = [
    "--systemd=always",
    "--cap-add", "NET_ADMIN",
    # libvirtd recognises a network's running dnsmasq (user nobody) by /proc/<pid>/exe, which root
    # may read only with CAP_SYS_PTRACE; without it, a libvirtd restarted by socket activation
    # (Debian's idles out after 120 s) loses its dnsmasq and every DHCP reservation fails with
    # "dnsmasq: failed to create listening socket ...: Address already in use".
    "--cap-add", "SYS_PTRACE",
    "--device", "/dev/net/tun",
    "--security-opt", "unmask=/proc/sys",
]

SSH_BASE_OPTIONS = [
    "-o", "StrictHostKeyChecking=yes",
    "-o", f"UserKnownHostsFile={KNOWN_HOSTS}",
    "-o", "LogLevel=ERROR",
    "-o", "ControlMaster=auto",
    "-o", "ControlPersist=60s",
]
SSH_OPTIONS = [*SSH_BASE_OPTIONS, "-o", f"ControlPath={STATE}/cp-%C"]
# Ansible's own control sockets: a master opened by lab/lab must not stand in for Ansible's
# connection (and its host key check).
ANSIBLE_SSH_OPTIONS = [*SSH_BASE_OPTIONS, "-o", f"ControlPath={STATE}/ans-%C"]

# How long `up` waits for hosts to boot. 120 s was too short on a loaded 2-core machine (load 20-50:
# `ssh-keygen -A` alone took 2 min); MINISTACK_LAB_BOOT_TIMEOUT overrides it.
BOOT_TIMEOUT = float(os.environ.get("MINISTACK_LAB_BOOT_TIMEOUT") or 300)


class LabError(Exception):
    """A failure with a message meant for the user; printed without a traceback."""


def log(message: str) -> None:
    print(f"[lab] {message}", file=sys.stderr, flush=True)


def lab_env() -> dict[str, str]:
    env = dict(os.environ)
    # The project's podman settings (runc, cgroupfs, ulimits), whatever the caller's
    # environment says: the lab's hosts only boot with them. /etc/containers is never used.
    env["CONTAINERS_CONF"] = str(LAB_DIR / "containers.conf")
    return env


def run(argv: list[str], *, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(argv, env=lab_env(), text=True, timeout=timeout,
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise LabError(f"'{argv[0]}' is not installed: run scripts/setup.sh") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip()
        raise LabError(f"`{shlex.join(argv)}` failed (exit {proc.returncode}): {detail}")
    return proc


def podman(*args: str, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], check=check, timeout=timeout)


def host_name(index: int) -> str:
    return f"h{index}"


def container_name(host: str) -> str:
    return PREFIX + host


def host_ip(index: int) -> str:
    return str(SUBNET.network_address + FIRST_HOST_OFFSET + index)


def lab_containers() -> dict[str, dict[str, str]]:
    """Existing lab containers by host name (h1...), with their state and image."""
    out = podman("ps", "-a", "--filter", f"label={LABEL}", "--format", "json").stdout
    found = {}
    for container in json.loads(out or "[]"):
        name = container["Names"][0]
        if name.startswith(PREFIX):
            found[name[len(PREFIX):]] = {"state": container["State"], "image": container["Image"]}
    return found


def host_index(host: str) -> int:
    return int(host[1:]) if host[1:].isdigit() else 0


def ssh_argv(ip: str, *command: str, connect_timeout: int = 5, interactive: bool = False) -> list[str]:
    # Batch mode: a probe must fail at once rather than ask for a password.
    mode = ["-t"] if interactive else ["-o", "BatchMode=yes"]
    return ["ssh", *mode, "-i", str(KEY), *SSH_OPTIONS, "-o", f"ConnectTimeout={connect_timeout}",
            f"root@{ip}", *command]


def close_ssh_master(ip: str) -> None:
    """End the ControlPersist master for a host: after the host stopped, it would hold a dead
    connection that new sessions queue behind until TCP gives up."""
    run(["ssh", "-i", str(KEY), *SSH_OPTIONS, "-O", "exit", f"root@{ip}"], check=False, timeout=10)
    # and Ansible's (the inventory gives it its own sockets)
    run(["ssh", "-i", str(KEY), *ANSIBLE_SSH_OPTIONS, "-O", "exit", f"root@{ip}"], check=False, timeout=10)


# --- up ----------------------------------------------------------------------------------

def ensure_image() -> str:
    """Build (or find) the host image; the script's last stdout line is the reference."""
    result = subprocess.run([str(BUILD_SCRIPT)], env=lab_env(), text=True,
                            stdout=subprocess.PIPE, check=False)
    if result.returncode != 0:
        raise LabError("the host image build failed (its messages are above)")
    return result.stdout.strip().splitlines()[-1]


def ensure_key() -> None:
    STATE.mkdir(mode=0o700, parents=True, exist_ok=True)
    if KEY.exists() and KEY.with_suffix(".pub").exists():
        return
    log(f"creating the lab's SSH key {KEY.relative_to(ROOT)}")
    KEY.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ministack-lab", "-f", str(KEY)])


def ensure_network() -> None:
    if podman("network", "exists", NETWORK, check=False).returncode == 0:
        subnets = podman("network", "inspect", NETWORK, "--format",
                         "{{range .Subnets}}{{.Subnet}} {{end}}").stdout.split()
        if str(SUBNET) not in subnets:
            raise LabError(f"podman network {NETWORK} exists with subnet {' '.join(subnets) or '?'}, "
                           f"not {SUBNET}: run `lab/lab down` (or `podman network rm {NETWORK}`) first")
        return
    log(f"creating podman network {NETWORK} ({SUBNET})")
    podman("network", "create", "--subnet", str(SUBNET), "--gateway", str(GATEWAY),
           "--label", LABEL, NETWORK)


def object_store_flags(size_mb: int) -> list[str]:
    """Swift keeps object metadata in user xattrs; the container's own filesystem holds only
    about 4 KiB of them per file, tmpfs holds plenty (docs/lab.md)."""
    return ["--mount", f"type=tmpfs,destination=/srv/node,tmpfs-size={size_mb}m,tmpfs-mode=0755"]


def create_host(index: int, image: str, extra_flags: list[str]) -> None:
    host, ip = host_name(index), host_ip(index)
    name = container_name(host)
    forget_host_keys(ip)
    podman("create", "--name", name, "--hostname", host, "--label", LABEL,
           "--network", NETWORK, "--ip", ip, *HOST_RUN_FLAGS, *extra_flags, image)
    try:
        # The key goes in before the first boot, so sshd accepts it as soon as it listens.
        podman("cp", str(KEY.with_suffix(".pub")), f"{name}:/root/.ssh/authorized_keys")
        podman("start", name)
    except LabError:
        podman("rm", "-f", name, check=False)
        raise
    log(f"{host}: started {name} at {ip}")


def known_host_keys(ip: str) -> list[str]:
    """The lines recorded for ``ip`` in the lab's known_hosts file."""
    if not KNOWN_HOSTS.exists():
        return []
    proc = run(["ssh-keygen", "-F", ip, "-f", str(KNOWN_HOSTS)], check=False)
    return [line for line in proc.stdout.splitlines() if line and not line.startswith("#")]


def forget_host_keys(ip: str) -> None:
    """A host the lab (re)creates is a new machine: its old keys must go."""
    if known_host_keys(ip):
        run(["ssh-keygen", "-R", ip, "-f", str(KNOWN_HOSTS)], check=False)
        Path(f"{KNOWN_HOSTS}.old").unlink(missing_ok=True)


def record_host_keys(host: str, ip: str) -> bool:
    """Record a new host's SSH keys, read through podman (the lab's trusted channel to its own
    containers, so no trust-on-first-use is needed here). False while the host has not made
    its keys yet (ministack-ssh-hostkeys.service at first boot)."""
    if known_host_keys(ip):
        return True
    # ssh-keygen -A writes RSA, ECDSA, then ED25519: once the last is there, the set is whole.
    proc = podman("exec", container_name(host), "sh", "-c",
                  "test -s /etc/ssh/ssh_host_ed25519_key.pub && cat /etc/ssh/ssh_host_*_key.pub",
                  check=False, timeout=15)
    keys = [line.split()[:2] for line in proc.stdout.splitlines() if len(line.split()) >= 2]
    if proc.returncode != 0 or not keys:
        return False
    with KNOWN_HOSTS.open("a") as known:
        known.writelines(f"{ip} {kind} {blob}\n" for kind, blob in keys)
    KNOWN_HOSTS.chmod(0o600)
    return True


def wait_ready(hosts: dict[str, str], timeout: float = BOOT_TIMEOUT) -> dict[str, float]:
    """Wait until each host answers over SSH and systemd has finished booting."""
    start = time.monotonic()
    pending = dict(hosts)
    ready: dict[str, float] = {}
    last: dict[str, str] = {}
    while pending:
        for host, ip in list(pending.items()):
            if not record_host_keys(host, ip):
                last[host] = "no SSH host keys yet"
                continue
            try:
                proc = run(ssh_argv(ip, "systemctl", "is-system-running", connect_timeout=2),
                           check=False, timeout=15)
                state = proc.stdout.strip() or (proc.stderr.strip().splitlines() or ["no answer"])[-1]
            except subprocess.TimeoutExpired:
                state = "no answer within 15s"
            last[host] = state
            if state in ("running", "degraded"):
                ready[host] = time.monotonic() - start
                note = "" if state == "running" else " (systemd degraded: see `lab/lab status`)"
                log(f"{host}: ready over SSH in {ready[host]:.1f}s{note}")
                del pending[host]
        if pending and time.monotonic() - start > timeout:
            detail = ", ".join(f"{h}: {last[h]}" for h in pending)
            raise LabError(f"hosts not ready after {timeout:.0f}s ({detail}); "
                           f"look inside with `podman logs {container_name(next(iter(pending)))}`")
        if pending:
            time.sleep(0.5)
    return ready


def assign_roles(n: int, compute: int | None, block: int | None, obj: int | None) -> dict[str, list[str]]:
    """Fill compute, then block, then object over h1..hN, wrapping round when the
    counts add up to more than N (a host may then serve several roles)."""
    counts = {"compute": 1 if compute is None else compute,
              "block": 1 if block is None else block,
              "object": n if obj is None else obj}
    for role, count in counts.items():
        if not 0 <= count <= n:
            raise LabError(f"--{role} {count} is out of range: give 0..{n} (the number of hosts)")
    groups: dict[str, list[str]] = {}
    cursor = 0
    for role, count in counts.items():
        groups[role] = [host_name((cursor + i) % n + 1) for i in range(count)]
        cursor += count
    for role in groups:
        groups[role].sort(key=host_index)
    return groups


def write_inventory(n: int, groups: dict[str, list[str]]) -> None:
    # Ansible's own connection: the same known_hosts file, strict checking, its own sockets.
    common_args = " ".join(f"-o {o}" for o in ANSIBLE_SSH_OPTIONS[1::2])
    lines = [
        "# Written by `lab/lab up`: the hosts of the ministack lab (podman containers on this",
        "# machine). Rewritten on every `up`; do not edit.",
        "all:",
        "  vars:",
        "    ansible_user: root",
        f"    ansible_ssh_private_key_file: {KEY}",
        f"    ansible_ssh_common_args: {common_args!r}".replace("'", '"'),
        "    ansible_python_interpreter: /usr/bin/python3",
        "    # The controller's known_hosts file for these hosts: Ansible (above), libvirt (kvm_host's",
        "    # qemu+libssh2 URI) and the block runner check against it. lab/lab records new hosts'",
        "    # keys through podman; roles/common_host (tasks_from: host_key) records them on first use",
        "    # for other inventories. ministack_host_key_checking: false turns checking off.",
        f"    ministack_known_hosts: {KNOWN_HOSTS}",
        "  children:",
        "    controller:",
        "      hosts:",
        "        localhost:",
        "          ansible_connection: local",
        '          ansible_python_interpreter: "{{ ansible_playbook_python }}"',
        "    lab:",
        "      hosts:",
    ]
    for index in range(1, n + 1):
        host, ip = host_name(index), host_ip(index)
        lines.append(f"        {host}:")
        lines.append(f"          ansible_host: {ip}")
        if host in groups["compute"]:
            lines.append(f"          libvirt_uri: qemu+libssh2://root@{ip}/system?sshauth=privkey&keyfile={KEY}"
                         f"&known_hosts={KNOWN_HOSTS}")
    for role in ("compute", "block", "object"):
        lines.append(f"    {role}:")
        if groups[role]:
            lines.append("      hosts:")
            lines.extend(f"        {host}:" for host in groups[role])
        else:
            lines.append("      hosts: {}")
    INVENTORY.write_text("\n".join(lines) + "\n")

    ssh_lines = []
    for index in range(1, n + 1):
        ssh_lines += [f"Host {host_name(index)}", f"  HostName {host_ip(index)}", "  User root",
                      f"  IdentityFile {KEY}"]
        ssh_lines += [f"  {option.replace('=', ' ', 1)}" for option in SSH_OPTIONS[1::2]]
    SSH_CONFIG.write_text("\n".join(ssh_lines) + "\n")


def cmd_up(args: argparse.Namespace) -> int:
    n = args.hosts
    if not 1 <= n <= MAX_HOSTS:
        raise LabError(f"N={n} is out of range: give 1..{MAX_HOSTS} hosts")
    groups = assign_roles(n, args.compute, args.block, args.object)
    if args.object_disk_mb < 16:
        raise LabError(f"--object-disk-mb {args.object_disk_mb} is too small: give at least 16")
    started = time.monotonic()
    image = ensure_image()
    ensure_key()
    ensure_network()
    existing = lab_containers()
    for index in range(1, n + 1):
        host = host_name(index)
        current = existing.get(host)
        if current is None:
            is_object = host in groups["object"]
            create_host(index, image, object_store_flags(args.object_disk_mb) if is_object else [])
        elif current["state"] != "running":
            log(f"{host}: starting the existing container ({current['state']})")
            close_ssh_master(host_ip(index))
            podman("start", container_name(host))
        else:
            note = "" if current["image"] == image else f" (image {current['image']}; `down` then `up` to renew)"
            log(f"{host}: kept, already running{note}")
    extra = sorted((h for h in existing if host_index(h) > n), key=host_index)
    if extra:
        log(f"left alone beyond N={n}: {', '.join(extra)} (`lab/lab down` removes every lab host)")
    wait_ready({host_name(i): host_ip(i) for i in range(1, n + 1)})
    write_inventory(n, groups)
    for role in ("compute", "block", "object"):
        log(f"{role:8s}: {', '.join(groups[role]) or '-'}")
    log(f"inventory: {INVENTORY.relative_to(ROOT)}  (ansible -i {INVENTORY.relative_to(ROOT)} lab -m ping)")
    log(f"lab of {n} hosts ready in {time.monotonic() - started:.1f}s")
    return 0


# --- status, down, ssh ---------------------------------------------------------------------

def cmd_status(_args: argparse.Namespace) -> int:
    hosts = lab_containers()
    if not hosts:
        print("no lab hosts (start some with `lab/lab up N`)")
        return 1
    healthy = True
    print(f"{'host':5} {'container':10} {'ip':14} {'ssh':5} systemd")
    for host in sorted(hosts, key=host_index):
        info = hosts[host]
        ip, ssh_ok, systemd = "-", "-", "-"
        if info["state"] == "running":
            ip = podman("inspect", container_name(host), "--format",
                        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}").stdout.strip() or "-"
            proc = run(ssh_argv(ip, "systemctl", "is-system-running", connect_timeout=3),
                       check=False, timeout=15)
            ssh_ok = "yes" if proc.returncode in (0, 1) and proc.stdout.strip() else "no"
            systemd = proc.stdout.strip() or "-"
            if systemd == "degraded":
                failed = run(ssh_argv(ip, "systemctl", "--failed", "--no-legend", "--plain"),
                             check=False, timeout=15).stdout.split()
                systemd += f" (failed: {', '.join(u for u in failed if '.' in u)})"
        healthy &= ssh_ok == "yes" and systemd == "running"
        print(f"{host:5} {info['state']:10} {ip:14} {ssh_ok:5} {systemd}")
    return 0 if healthy else 1


def cmd_down(_args: argparse.Namespace) -> int:
    hosts = lab_containers()
    started = time.monotonic()
    if hosts:
        names = [container_name(h) for h in sorted(hosts, key=host_index)]
        log(f"removing {', '.join(names)}")
        # `podman stop` sends the image's STOPSIGNAL (SIGRTMIN+3): systemd shuts down in 1-5 s.
        # A host still busy booting may take longer; the lab holds nothing worth waiting for,
        # so after 5 s the rest is killed.
        podman("stop", "-t", "5", *names, check=False, timeout=120)
        podman("rm", "-f", "-t", "0", *names, timeout=120)
    if podman("network", "exists", NETWORK, check=False).returncode == 0:
        log(f"removing podman network {NETWORK}")
        podman("network", "rm", NETWORK)
    for socket in STATE.glob("cp-*"):
        # Ends the ControlPersist master behind this socket, then the socket itself.
        run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "lab-host"], check=False, timeout=10)
        socket.unlink(missing_ok=True)
    for socket in STATE.glob("ans-*"):
        run(["ssh", "-o", f"ControlPath={socket}", "-O", "exit", "lab-host"], check=False, timeout=10)
        socket.unlink(missing_ok=True)
    for stale in (INVENTORY, SSH_CONFIG, KNOWN_HOSTS):
        stale.unlink(missing_ok=True)
    left = lab_containers()
    if left:
        raise LabError(f"containers still present after removal: {', '.join(left)}")
    log(f"lab removed in {time.monotonic() - started:.1f}s" if hosts else "no lab hosts to remove")
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    hosts = lab_containers()
    if args.host not in hosts:
        known = ", ".join(sorted(hosts, key=host_index)) or "none; run `lab/lab up N`"
        raise LabError(f"no lab host named {args.host!r} (hosts: {known})")
    if hosts[args.host]["state"] != "running":
        raise LabError(f"{args.host} is {hosts[args.host]['state']}: run `lab/lab up` to start it")
    argv = ssh_argv(host_ip(host_index(args.host)), *args.command, interactive=not args.command)
    os.execvpe("ssh", argv, lab_env())
    return 0  # not reached


def cmd_image(_args: argparse.Namespace) -> int:
    print(ensure_image())
    return 0


def cmd_molecule(args: argparse.Namespace) -> int:
    role_dir = ROOT / "roles" / args.role
    if not (role_dir / "molecule").is_dir():
        raise LabError(f"roles/{args.role}/molecule does not exist: see molecule/README.md for the layout")
    env = lab_env()
    env["MINISTACK_HOST_IMAGE"] = ensure_image()
    env["MINISTACK_MOLECULE_ROLE"] = args.role.replace("_", "-")
    # The container is molecule-<lab>-<role> and molecule keeps its state in lab/state/<lab>/,
    # so that two labs (or two checkouts) can test the same role at the same time.
    env["MINISTACK_MOLECULE_NAME"] = f"molecule-{LAB_NAME}-{env['MINISTACK_MOLECULE_ROLE']}"
    env.setdefault("MOLECULE_EPHEMERAL_DIRECTORY", str(STATE / "molecule" / args.role))
    venv_bin = ROOT / ".venv" / "bin"
    if venv_bin.is_dir():
        # molecule runs ansible-config, ansible-playbook... by name: the venv's must win.
        env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    molecule = shutil.which("molecule", path=str(ROOT / ".venv" / "bin")) or shutil.which("molecule")
    if molecule is None:
        raise LabError("molecule is not installed: run scripts/setup.sh (it builds .venv)")
    command = args.molecule_args or ["test"]
    log(f"roles/{args.role}: molecule {' '.join(command)} (image {env['MINISTACK_HOST_IMAGE']})")
    argv = [molecule, "-c", str(ROOT / "molecule" / "shared" / "base.yml"), *command]
    return subprocess.run(argv, cwd=role_dir, env=env, check=False).returncode


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="lab/lab", description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create (or keep) hosts h1..hN and write the inventory")
    up.add_argument("hosts", type=int, metavar="N")
    up.add_argument("--compute", type=int, metavar="K", help="hosts in the compute group (default 1)")
    up.add_argument("--block", type=int, metavar="K", help="hosts in the block group (default 1)")
    up.add_argument("--object", type=int, metavar="K", help="hosts in the object group (default N)")
    up.add_argument("--object-disk-mb", type=int, default=1024, metavar="MB",
                    help="size of the tmpfs at /srv/node on object hosts (default 1024)")
    up.set_defaults(func=cmd_up)
    sub.add_parser("status", help="report each host").set_defaults(func=cmd_status)
    sub.add_parser("down", help="remove every lab host and the network").set_defaults(func=cmd_down)
    ssh = sub.add_parser("ssh", help="a shell (or a command) on a host")
    ssh.add_argument("host", metavar="hN")
    ssh.add_argument("command", nargs=argparse.REMAINDER)
    ssh.set_defaults(func=cmd_ssh)
    sub.add_parser("image", help="build the host image if needed and print it").set_defaults(func=cmd_image)
    mol = sub.add_parser("molecule", help="run molecule in roles/ROLE with the lab's image and podman settings")
    mol.add_argument("role")
    mol.add_argument("molecule_args", nargs=argparse.REMAINDER)
    mol.set_defaults(func=cmd_molecule)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        log("ERROR: run as root (the lab uses rootful podman)")
        return 2
    try:
        return args.func(args)
    except LabError as exc:
        log(f"ERROR: {exc}")
        return 1
    except subprocess.TimeoutExpired as exc:
        log(f"ERROR: `{shlex.join(exc.cmd)}` did not finish within {exc.timeout:.0f}s")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
