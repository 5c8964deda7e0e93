#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remove everything ministack made on this machine, so that it is as if it never ran here.

Run it as `scripts/reset.sh` (docs/testing.md). Without --yes it only lists what it would
remove. It first looks at everything, then checks that nothing outside ministack uses what
it found (a foreign guest's disk in a ministack pool, a foreign initiator logged in to a
ministack target, a foreign container on a lab network, another filesystem at /srv/node):
if anything does, it removes nothing and says what and why. Then it removes, in order:

  podman     lab containers and networks (every lab's ``ministack-*``)
  backups    volume backup processes still copying (the block host program, the detached
             ``wait: false`` worker): stopped, so nothing holds a volume or writes to Swift
  domains    libvirt guests with ministack's metadata (the server module's) or named
             ``ministack-*`` (stopped first)
  targets    tgt targets named ``iqn.2010-10.org.ministack:*`` and their /etc/tgt/conf.d files
  secrets    libvirt secrets for volume CHAP (usage ``ministack-volume-*``)
  networks   libvirt networks ``ministack-*``
  pools      libvirt storage pools ``ministack-*``, with their volumes and directories
  swift      the Swift services, the /srv/node loop mount with its fstab line, the test tmpfs
  files      /var/lib/ministack, the catalog and ``.ministack/`` directories, the walkthrough's key

It leaves alone: Debian packages, .venv, the daemons (libvirtd, virtlogd, tgtd, memcached,
PostgreSQL), and the build caches under .cache/ (the test image, the lab's host image, the
reference Swift venv), which are rebuilt only when their inputs change, like .venv.

A later feature that leaves something behind adds a Leftover class to LEFTOVERS below (one
place): its find() lists what exists, in_use() names what outside ministack holds it, remove()
removes it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
PREFIX = "ministack-"
IQN_PREFIX = "iqn.2010-10.org.ministack:"  # plugins/plugin_utils/block/targets.py
INITIATOR_PREFIX = IQN_PREFIX + "initiator-"  # plugins/plugin_utils/block/attach.py
SECRET_USAGE_PREFIX = "ministack-volume-"
METADATA_NS = "https://ministack.cloud/xmlns/libvirt/instance/1.0"  # plugins/plugin_utils/compute/xmlgen.py
TGT_CONF_DIR = pathlib.Path("/etc/tgt/conf.d")
VAR_DIR = pathlib.Path("/var/lib/ministack")  # pools, file volumes, the object device image, probe cache
OBJECT_MOUNT = "/srv/node"  # playbooks/object.yml
OBJECT_IMAGE = VAR_DIR / "object-node.xfs"
TEST_MOUNTS = ("/srv/ministack-test-node",)  # tests/integration/object/conftest.py
SWIFT_VENV = pathlib.Path("/opt/ministack/swift")  # object_swift_venv
VIRSH = ["virsh", "-q", "-c", "qemu:///system"]


class Refused(Exception):
    """Something outside ministack uses what would be removed."""


def run(cmd, check=True, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def virsh(*args, check=True) -> str:
    return run([*VIRSH, *args], check=check).stdout


def virsh_names(kind: str) -> list[str]:
    """Names of every libvirt object of a kind (list/pool-list/net-list), all states."""
    if not have("virsh"):
        return []
    proc = run([*VIRSH, kind, "--all", "--name"], check=False)
    if proc.returncode != 0:
        return []  # libvirtd is not running: it holds nothing
    return [n.strip() for n in proc.stdout.splitlines() if n.strip()]


def domain_xmls(names) -> dict[str, ET.Element]:
    xmls = {}
    for name in names:
        proc = run([*VIRSH, "dumpxml", name], check=False)
        if proc.returncode == 0:  # else gone meanwhile
            xmls[name] = ET.fromstring(proc.stdout)
    return xmls


def ministack_domains() -> tuple[list[str], dict[str, ET.Element]]:
    """Our guests (the server module's instance-XXXXXXXX carry ministack's metadata; helpers
    and tests name theirs ministack-*), and every other domain with its XML."""
    ours, others = [], {}
    for name, xml in domain_xmls(virsh_names("list")).items():
        if name.startswith(PREFIX) or xml.find(f"metadata/{{{METADATA_NS}}}instance") is not None:
            ours.append(name)
        else:
            others[name] = xml
    return ours, others


class Leftover:
    """One kind of thing ministack leaves on a machine."""

    name = ""

    def find(self) -> list[str]:
        return []

    def in_use(self, found: list[str]) -> list[str]:
        """Why removing would hurt something outside ministack (empty: nothing does)."""
        return []

    def remove(self, found: list[str]) -> None:
        raise NotImplementedError


class Podman(Leftover):
    name = "podman"
    env = {**os.environ, "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf")}  # as lab/lab.py runs podman

    def _lines(self, *args) -> list[str]:
        if not have("podman"):
            return []
        proc = run(["podman", *args], check=False, env=self.env)
        return [line.strip() for line in proc.stdout.splitlines() if line.strip()] if proc.returncode == 0 else []

    kept_labs: list[str] = []  # --keep-lab: another checkout's named lab (MINISTACK_LAB), left alone

    def _kept(self, name: str) -> bool:
        return any(name == f"{PREFIX}{lab}" or name.startswith(f"{PREFIX}{lab}-") for lab in self.kept_labs)

    def find(self):
        containers = [n for n in self._lines("ps", "-a", "--format", "{{.Names}}")
                      if n.startswith(PREFIX) and not self._kept(n)]
        networks = [n for n in self._lines("network", "ls", "--format", "{{.Name}}")
                    if n.startswith(PREFIX) and not self._kept(n)]
        return [f"container {c}" for c in containers] + [f"network {n}" for n in networks]

    def in_use(self, found):
        ours = {f.split(" ", 1)[1] for f in found if f.startswith("container ")}
        networks = {f.split(" ", 1)[1] for f in found if f.startswith("network ")}
        problems = []
        for line in self._lines("ps", "-a", "--format", "{{.Names}} {{.Networks}}"):
            name, _, nets = line.partition(" ")
            if name in ours:
                continue
            for net in re.split(r"[,\s]+", nets):
                if net in networks:
                    problems.append(f"podman network {net} has container {name}, which is not ministack's")
        return problems

    def remove(self, found):
        for item in found:
            kind, name = item.split(" ", 1)
            if kind == "container":
                run(["podman", "rm", "-f", "-t", "5", name], env=self.env)
        for item in found:
            kind, name = item.split(" ", 1)
            if kind == "network":
                run(["podman", "network", "rm", "-f", name], env=self.env)
        shutil.rmtree(ROOT / "lab" / "state", ignore_errors=True)


class BackupJobs(Leftover):
    """Processes of a volume backup or restore that outlived their run. Their objects live in
    Swift (the swift kind takes the device); a temporary snapshot is a file under VAR_DIR."""

    name = "backups"
    # plugins/plugin_utils/backup/hostjob.py BOOTSTRAP, backup/resources.py spawn_worker
    MARKERS = ("compile(d['program'],'ministack-backup'", "plugin_utils.backup import worker")

    def find(self):
        return [f"process {pid}" for pid, cmdline in host_processes()
                if pid != os.getpid() and any(m in cmdline for m in self.MARKERS)]

    def remove(self, found):
        pids = [int(item.split()[1]) for item in found]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(pathlib.Path(f"/proc/{pid}").exists() for pid in pids):
                time.sleep(0.2)


class Domains(Leftover):
    name = "domains"

    def find(self):
        return ministack_domains()[0]

    def remove(self, found):
        for name in found:
            virsh("destroy", name, check=False)
            proc = run([*VIRSH, "undefine", name, "--managed-save", "--snapshots-metadata"], check=False)
            if proc.returncode != 0:
                virsh("undefine", name)


class Targets(Leftover):
    name = "targets"

    def _show(self) -> dict[str, dict]:
        """tid, sessions' initiators and backing files of every target, from tgtadm's show."""
        if not have("tgtadm"):
            return {}
        proc = run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "show"], check=False)
        targets, current = {}, None
        for line in proc.stdout.splitlines():
            match = re.match(r"^Target (\d+): (\S+)", line)
            if match:
                current = {"tid": match.group(1), "initiators": set()}
                targets[match.group(2)] = current
                continue
            match = re.match(r"^\s+Initiator: (\S+)", line)
            if match and current is not None:
                current["initiators"].add(match.group(1))
        return targets

    def find(self):
        targets = [iqn for iqn in self._show() if iqn.startswith(IQN_PREFIX)]
        confs = sorted(str(p) for p in TGT_CONF_DIR.glob(f"{PREFIX}*.conf")) if TGT_CONF_DIR.is_dir() else []
        return [f"target {t}" for t in targets] + [f"conf {c}" for c in confs]

    def in_use(self, found):
        shown = self._show()
        problems = []
        for item in found:
            kind, iqn = item.split(" ", 1)
            if kind != "target":
                continue
            for initiator in sorted(shown.get(iqn, {}).get("initiators", ())):
                if not initiator.startswith(INITIATOR_PREFIX):
                    problems.append(f"tgt target {iqn} has a session from {initiator}, which is not ministack's")
        return problems

    def remove(self, found):
        shown = self._show()
        for item in found:
            kind, what = item.split(" ", 1)
            if kind == "target" and what in shown:
                run(["tgtadm", "--lld", "iscsi", "--mode", "target", "--op", "delete", "--force",
                     "--tid", shown[what]["tid"]])
            elif kind == "conf":
                pathlib.Path(what).unlink(missing_ok=True)


class Secrets(Leftover):
    name = "secrets"

    def find(self):
        if not have("virsh"):
            return []
        proc = run([*VIRSH, "secret-list"], check=False)
        found = []
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[-1].startswith(SECRET_USAGE_PREFIX):
                found.append(parts[0])
        return found

    def remove(self, found):
        for uuid in found:
            virsh("secret-undefine", uuid, check=False)


class Networks(Leftover):
    name = "networks"

    def find(self):
        return [n for n in virsh_names("net-list") if n.startswith(PREFIX)]

    def in_use(self, found):
        problems = []
        bridges = {}
        for net in found:
            source = ET.fromstring(virsh("net-dumpxml", net)).find("bridge")
            if source is not None and source.get("name"):
                bridges[source.get("name")] = net
        for name, xml in ministack_domains()[1].items():
            for iface in xml.findall("./devices/interface/source"):
                net = iface.get("network") or bridges.get(iface.get("bridge") or "")
                if net in found:
                    problems.append(f"libvirt network {net} has an interface of domain {name}, which is not ministack's")
        return problems

    def remove(self, found):
        for net in found:
            virsh("net-destroy", net, check=False)
            virsh("net-undefine", net)


class Pools(Leftover):
    name = "pools"

    def _path(self, pool: str) -> str:
        target = ET.fromstring(virsh("pool-dumpxml", pool)).find("./target/path")
        return (target.text or "").rstrip("/") if target is not None else ""

    def find(self):
        return [p for p in virsh_names("pool-list") if p.startswith(PREFIX)]

    def in_use(self, found):
        paths = {pool: self._path(pool) for pool in found}
        problems = []
        for name, xml in ministack_domains()[1].items():
            for source in xml.findall("./devices/disk/source"):
                file = source.get("file") or ""
                for pool, path in paths.items():
                    if path and (file == path or file.startswith(path + "/")):
                        problems.append(f"libvirt pool {pool} holds {file}, a disk of domain {name}, which is not ministack's")
        return problems

    def remove(self, found):
        for pool in found:
            path = self._path(pool)
            if virsh("pool-info", pool).find("running") < 0:
                virsh("pool-start", pool, check=False)
            for vol in virsh("vol-list", pool, check=False).splitlines():
                parts = vol.split()
                if parts:
                    virsh("vol-delete", parts[0], "--pool", pool, check=False)
            virsh("pool-destroy", pool, check=False)
            virsh("pool-delete", pool, check=False)
            virsh("pool-undefine", pool)
            if path.startswith(str(VAR_DIR) + "/"):
                shutil.rmtree(path, ignore_errors=True)


def host_processes() -> list[tuple[int, str]]:
    """(pid, command line) of this machine's own processes. A podman lab's processes show in
    /proc too (its hosts run the same Swift and backup programs) but live in another pid
    namespace: they belong to that lab, which the podman kind removes, or keeps (--keep-lab)."""
    try:
        ours = os.readlink("/proc/self/ns/pid")
    except OSError:
        ours = None
    found = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if ours is not None and os.readlink(proc / "ns" / "pid") != ours:
                continue
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        found.append((int(proc.name), cmdline))
    return found


def mounts() -> dict[str, tuple[str, str]]:
    """mount point -> (source, fstype), from /proc/mounts."""
    found = {}
    for line in pathlib.Path("/proc/mounts").read_text().splitlines():
        source, target, fstype = line.split()[:3]
        found[target.replace("\\040", " ")] = (source, fstype)
    return found


def loop_backing(device: str) -> str:
    if not device.startswith("/dev/loop"):
        return ""
    try:
        return (pathlib.Path("/sys/block") / pathlib.Path(device).name / "loop" / "backing_file").read_text().strip()
    except OSError:
        return ""


def fstab_lines() -> list[str]:
    fstab = pathlib.Path("/etc/fstab")
    return fstab.read_text().splitlines() if fstab.exists() else []


def ours_in_fstab(line: str) -> bool:
    fields = line.split()
    return len(fields) >= 2 and not line.lstrip().startswith("#") and fields[0] == str(OBJECT_IMAGE)


class Swift(Leftover):
    name = "swift"

    def find(self):
        found = []
        if (SWIFT_VENV / "bin" / "swift-init").exists() and any(f"{SWIFT_VENV}/bin/" in cmdline
                                                                 for _pid, cmdline in host_processes()):
            found.append("services (swift-init all stop)")
        mounted = mounts()
        if OBJECT_MOUNT in mounted:
            found.append(f"mount {OBJECT_MOUNT}")
        found += [f"mount {m}" for m in TEST_MOUNTS if m in mounted]
        if any(ours_in_fstab(line) for line in fstab_lines()):
            found.append(f"fstab {OBJECT_MOUNT}")
        return found

    def in_use(self, found):
        mounted = mounts()
        problems = []
        if OBJECT_MOUNT in mounted:
            source, fstype = mounted[OBJECT_MOUNT]
            if loop_backing(source) != str(OBJECT_IMAGE):
                problems.append(f"{OBJECT_MOUNT} is {source} ({fstype}), not ministack's loop-mounted {OBJECT_IMAGE}")
        for m in TEST_MOUNTS:
            if m in mounted and mounted[m][1] != "tmpfs":
                problems.append(f"{m} is {mounted[m][0]} ({mounted[m][1]}), not the object tests' tmpfs")
        return problems

    def remove(self, found):
        if "services (swift-init all stop)" in found:
            env = {**os.environ, "PATH": f"{SWIFT_VENV}/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
            run([str(SWIFT_VENV / "bin" / "swift-init"), "all", "stop"], check=False, env=env)
        for item in found:
            if item.startswith("mount "):
                path = item.split(" ", 1)[1]
                if path not in mounts():
                    continue  # gone meanwhile
                source = mounts()[path][0]
                run(["umount", path])
                if source.startswith("/dev/loop"):
                    run(["losetup", "-d", source], check=False)  # autoclear usually did it
                with contextlib.suppress(OSError):
                    os.rmdir(path)  # the mount point, when empty
        if f"fstab {OBJECT_MOUNT}" in found:
            kept = [line for line in fstab_lines() if not ours_in_fstab(line)]
            pathlib.Path("/etc/fstab").write_text("\n".join(kept) + ("\n" if kept else ""))


class Files(Leftover):
    name = "files"

    def find(self):
        candidates = [VAR_DIR, pathlib.Path.home() / ".ministack", ROOT / "playbooks" / ".ministack",
                      *sorted((ROOT / "inventories").glob("*/.ministack")),
                      *sorted((ROOT / "playbooks").glob("mykeypair.key*"))]
        return [str(p) for p in candidates if p.exists() or p.is_symlink()]

    def in_use(self, found):
        source = mounts().get(OBJECT_MOUNT, ("", ""))[0]
        if str(VAR_DIR) in found and loop_backing(source) == str(OBJECT_IMAGE) and "swift" not in CHOSEN:
            return [f"{OBJECT_IMAGE} is mounted at {OBJECT_MOUNT} (add --only swift)"]
        return []

    def remove(self, found):
        for item in found:
            path = pathlib.Path(item)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


# In the order they are removed: what uses a thing goes before the thing.
LEFTOVERS: list[Leftover] = [Podman(), BackupJobs(), Domains(), Targets(), Secrets(), Networks(), Pools(), Swift(), Files()]
CHOSEN: set[str] = set()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--yes", action="store_true", help="remove (without it: only list what would go)")
    parser.add_argument("--only", action="append", choices=[x.name for x in LEFTOVERS], metavar="KIND",
                        help="only these kinds (repeatable): " + ", ".join(x.name for x in LEFTOVERS))
    parser.add_argument("--keep-lab", action="append", default=[], metavar="NAME",
                        help="leave the podman lab MINISTACK_LAB=NAME (its containers and network) alone")
    args = parser.parse_args(argv)
    Podman.kept_labs = args.keep_lab
    if os.geteuid() != 0:
        print("reset: run it as root (it removes libvirt, tgt, podman and mount state)", file=sys.stderr)
        return 2
    chosen = [x for x in LEFTOVERS if not args.only or x.name in args.only]
    CHOSEN.update(x.name for x in chosen)
    found = {x.name: x.find() for x in chosen}
    problems = [p for x in chosen if found[x.name] for p in x.in_use(found[x.name])]
    for x in chosen:
        for item in found[x.name]:
            print(f"{x.name:9} {item}")
    if not any(found.values()):
        print("reset: nothing of ministack's on this machine")
        return 0
    if problems:
        print("reset: refusing, nothing removed: something outside ministack uses what it made:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("Remove or move those first (or run with --only for the other kinds).", file=sys.stderr)
        return 1
    if not args.yes:
        print("reset: nothing removed (dry run); run with --yes to remove the above")
        return 0
    for x in chosen:
        if found[x.name]:
            x.remove(found[x.name])
    now = {x.name: x.find() for x in chosen}
    left = [f"{kind} {item}" for kind, items in now.items() for item in items if item in found[kind]]
    new = [f"{kind} {item}" for kind, items in now.items() for item in items if item not in found[kind]]
    if new:
        print("reset: made meanwhile by something still running (left alone): " + ", ".join(new), file=sys.stderr)
    if left:
        print("reset: still there after removal: " + ", ".join(left), file=sys.stderr)
        return 1
    print("reset: done; the machine has nothing of ministack's but packages, .venv, daemons and .cache/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
