"""The block_host role's sudo rules and the block host runner agree: every command line the
runner sends (driven through the LVM and file backends, tgt and LIO, image staging and the
backup job) matches a rule, every command named in the library has a rule, and command lines
outside ministack's own volumes, files and targets are refused. The rules themselves are run
for real by sudo in tests/integration/block/test_sudo_rules.py."""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import hostjob
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import backends, runner, targets
from helpers import sudo_rules

_RENDERED = {}


def _rules(**kw):
    key = tuple(sorted(kw.items()))
    if key not in _RENDERED:
        _RENDERED[key] = sudo_rules.rules(sudo_rules.render(**kw))
    return _RENDERED[key]

LIB = pathlib.Path(__file__).resolve().parents[3] / "plugins" / "plugin_utils"
VID = "0b6e1c3a-5d7e-4c1b-9f00-1a2b3c4d5e6f"
SID = "5f1d2e3c-0000-4c1b-9f00-aaaaaaaaaaaa"
IQN = targets.volume_iqn(VID)
GiB = 1024**3


class Recorder(runner.Runner):
    """A become runner that records each command line and answers like a small block host."""

    def __init__(self, thin=False, **kw):
        super().__init__(become=True, **kw)
        self.seen = []
        self.thin = thin
        self.exported = False

    def _answer(self, argv):
        name, args = argv[0], " ".join(argv[1:])
        if name == "dmsetup":
            return "thin-pool v1.23\n" if self.thin else "linear v1\n"
        if name == "vgs" and "vg_size" in args:
            return f"{10 * GiB}|{5 * GiB}"
        if name == "lvs" and "-o" in argv:
            fields = argv[argv.index("-o") + 1]
            return {"lv_size,data_percent": f"{9 * GiB}|12.5", "lv_name,lv_size,pool_lv": f"volume-a|{GiB}|",
                    "lv_size": str(GiB), "lv_name": "volume-a"}[fields]
        if name == "stat":
            return str(GiB)
        if name == "find":
            return f"volume-{VID}/{GiB}/snapshot-{SID}/{GiB}/"
        if name == "df":
            return f"1B-blocks Avail\n{10 * GiB} {5 * GiB}"
        if name == "prlimit":
            return json.dumps({"format": argv[argv.index("-f") + 1], "virtual-size": GiB})
        if name == "tgtadm" and "show" in argv:
            return (f"Target 1: {IQN}\n    LUN information:\n        LUN: 0\n        LUN: 1\n"
                    "    Account information:\n        chapuser\n") if self.exported else ""
        if name == "tgt-admin" and "--update" in argv:
            self.exported = True
        if name == "tgt-admin" and "--delete" in argv:
            self.exported = False
        return ""

    def _execute(self, argv, input_text, timeout):
        assert argv[:2] == ["sudo", "-n"], argv
        self.seen.append(argv[2:])
        return subprocess.CompletedProcess(argv, self._rc(argv[2:]), self._answer(argv[2:]), "")

    def _rc(self, argv):
        """What is there: no tgt config file, no volume file yet, a thin pool only when thin, a LIO
        target once created."""
        if argv[0] == "cat" or argv[:2] == ["test", "-f"]:
            return 1
        if argv[0] == "lvs" and len(argv) == 3 and argv[2].endswith("-pool"):
            return 0 if self.thin else 5
        if argv[0] == "targetcli":
            if argv[1:3] == ["/iscsi", "create"]:
                self.exported = True
            if argv[-1] == "ls":
                return 0 if self.exported else 1
        return 0

    def _local_argv(self, full):
        self.seen.append(full[2:])
        return ["sh", "-c", "cat >/dev/null; echo 'done {\"bytes\": 1}'"]


def _lvm(thin):
    run = Recorder(thin=thin)
    lvm = backends.LVMBackend(run, volume_group="cinder-volumes")
    vol, snap, clone = f"volume-{VID}", f"snapshot-{SID}", "volume-1d2c3b4a-0000-4000-8000-000000000001"
    lvm.capacity()
    lvm.create(vol, 1)
    lvm.extend(vol, 2)
    lvm.snapshot(vol, snap, 1)
    lvm.create_from_snapshot(snap, clone, 3)
    lvm.copy_bytes(lvm.path(snap), lvm.path(clone), GiB)
    lvm.delete_snapshot(snap)
    lvm.delete(vol)
    return run, lvm, vol


def _image(backend, name, tmp_path):
    image = tmp_path / "6f0e.qcow2"
    image.write_bytes(b"QFI\xfb" + bytes(508))
    with backend.image_on_host(str(image)) as staged:
        backend.copy_image(staged, "qcow2", name)


def _driven(tmp_path):
    """Every command line the library sends, per configuration (backend, target helper)."""
    seen = {}
    for thin in (False, True):
        run, lvm, vol = _lvm(thin)
        assert lvm.thin is thin
        _image(lvm, vol, tmp_path)
        seen.setdefault(("lvm", "tgtadm"), []).extend(run.seen)
    run = Recorder()
    files = backends.FileBackend(run, "/var/lib/ministack/volumes")
    vol, snap = f"volume-{VID}", f"snapshot-{SID}"
    files.capacity()
    files.create(vol, 1)
    files.extend(vol, 2)
    files.snapshot(vol, snap, 1)
    files.create_from_snapshot(snap, "volume-1d2c3b4a-0000-4000-8000-000000000001", 3)
    _image(files, vol, tmp_path)
    files.delete(snap)
    files.delete(vol)
    seen[("file", "tgtadm")] = list(run.seen)
    for control_port in (None, 3261):
        run = Recorder()
        tgt = targets.TgtTarget(run, control_port=control_port)
        tgt.export(VID, f"/dev/cinder-volumes/volume-{VID}", "chapuser", "chapsecret123456",
                   initiator_names=["iqn.1993-08.org.debian:01:abc"], initiator_addresses=["10.0.0.11"])
        tgt.export(VID, f"/dev/cinder-volumes/volume-{VID}", "chapuser", "othersecret12345",
                   initiator_addresses=["10.0.0.12"])
        tgt.unexport(VID)
        seen[("lvm", "tgtadm")] += run.seen
        seen[("file", "tgtadm")] += run.seen
    run = Recorder()
    lio = targets.LioTarget(run, portal_address="10.0.0.13")
    lio.export(VID, f"/dev/cinder-volumes/volume-{VID}", "chapuser", "chapsecret123456",
               initiator_names=["iqn.1993-08.org.debian:01:abc"])
    lio.unexport(VID)
    seen[("lvm", "lioadm")] = run.seen
    run = Recorder()
    hostjob.run(run, {"action": "backup", "token": "tok"})
    for key in list(seen):
        seen[key] = seen[key] + run.seen
    return seen


def test_every_command_line_the_runner_sends_matches_a_rule(tmp_path):
    driven = _driven(tmp_path)
    names = set()
    assert {"dmsetup", "test", "dd", "lvchange"} <= {argv[0] for argv in driven[("lvm", "tgtadm")]}
    assert len([argv for argv in driven[("lvm", "lioadm")] if argv[0] == "targetcli"]) >= 10
    for (backend, helper), seen in driven.items():
        parsed = _rules(backend=backend, helper=helper)
        assert seen
        refused = [argv for argv in seen if not sudo_rules.allowed(parsed, argv)]
        assert not refused, f"{backend}/{helper}: no sudo rule allows {refused}"
        names |= {argv[0] for argv in seen}
    # the paths sudo would run: the role looks up each of these names on the host
    assert names <= set(sudo_rules.command_names()), names - set(sudo_rules.command_names())


def _literal_commands():
    """argv[0] of every list literal the library passes to a runner's run/stream (and imagecheck's
    prlimit wrapper): a command added anywhere, even on a path no test drives, shows up here."""
    found = {}
    files = [*sorted((LIB / "block").glob("*.py")), LIB / "backup" / "hostjob.py", LIB / "hostrunner.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("run", "stream", "_cli") and node.args):
                continue
            first = node.args[0]
            if isinstance(first, ast.List) and first.elts and isinstance(first.elts[0], ast.Constant):
                found.setdefault(first.elts[0].value, f"{path.name}:{node.lineno}")
            elif isinstance(first, ast.Call) and getattr(first.func, "attr", "") == "limited":
                found.setdefault("prlimit", f"{path.name}:{node.lineno}")
    return found


# Commands in the library that the controller never sends to a block host through the runner:
# the role runs them (VG and thin pool creation, backends.setup), or tests do.
NOT_SENT = {"pvs", "pvcreate", "vgcreate"}


def test_every_command_named_in_the_library_has_a_rule():
    found = _literal_commands()
    assert {"lvcreate", "tgt-admin", "qemu-img", "prlimit", "python3", "targetcli"} <= set(found)
    rendered = "\n".join(sudo_rules.render(backend=b, helper=h) for b in ("lvm", "file") for h in ("tgtadm", "lioadm"))
    paths = sudo_rules.paths()
    missing = {name: where for name, where in found.items()
               if name not in NOT_SENT and f" NOPASSWD: {paths.get(name, '?')} " not in rendered}
    assert not missing, f"commands the runner sends without a sudo rule: {missing}"


@pytest.mark.parametrize("argv", [
    ["sh", "-c", "id"],
    ["/bin/sh", "-c", "id"],
    ["cat", "/etc/shadow"],
    ["cat", "/etc/tgt/conf.d/../../shadow"],
    ["lvm", "lvs"],
    ["lvremove", "-f", "vg0/root"],
    ["lvremove", "-f", "cinder-volumes/root"],
    ["lvcreate", "--yes", "-L", "1g", "-n", "volume-x", "othervg"],
    ["dd", "if=/dev/sda", "of=/dev/cinder-volumes/volume-x", "bs=4M", "conv=notrunc,fdatasync", "status=none"],
    ["dd", "if=/dev/zero", "of=/dev/sda", "bs=1M", "count=1", "oflag=direct", "status=none"],
    ["dd", "of=/etc/sudoers", "status=none"],
    ["rm", "-f", "/etc/passwd"],
    ["rm", "-f", "/var/tmp/ministack-image-1-x", "/etc/passwd"],
    ["rm", "-rf", "/"],
    ["mv", "-f", "/tmp/x", "/etc/tgt/conf.d/ministack-volume-x.conf"],
    ["tgt-admin", "-c", "/tmp/evil.conf", "--update", "iqn.2010-10.org.ministack:volume-x"],
    ["tgt-admin", "-e"],
    ["tgtadm", "--lld", "iscsi", "--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "2", "-b", "/dev/sda"],
    ["targetcli", "/backstores/block", "create", "name=volume-x", "dev=/dev/sda"],
    ["targetcli", "/backstores/block", "create", "name=volume-x", "dev=/dev/cinder-volumes/volume-x/../../sda"],
    ["qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", "-t", "none", "/etc/shadow", "/dev/cinder-volumes/volume-x"],
    ["prlimit", "--as=1", "--cpu=1", "sh", "-c", "id"],
    ["python3", "-c", "import os; os.system('id')"],
    ["test", "-b", "/dev/cinder-volumes/volume-x/../../sda"],
    ["sudo", "-s"],
])
def test_command_lines_outside_ministacks_own_are_refused(argv):
    for backend in ("lvm", "file"):
        for helper in ("tgtadm", "lioadm"):
            parsed = _rules(backend=backend, helper=helper)
            assert not sudo_rules.allowed(parsed, argv), (backend, helper, argv)


def test_the_backup_rule_is_left_out_on_request_and_names_of_other_volume_groups_are_escaped():
    without = sudo_rules.render(backup=False)
    assert "python3" not in without.split("Defaults", 1)[1]
    parsed = sudo_rules.rules(sudo_rules.render(volume_group="vg.data+1"))
    assert sudo_rules.allowed(parsed, ["lvremove", "-f", "vg.data+1/volume-x"])
    assert not sudo_rules.allowed(parsed, ["lvremove", "-f", "vgXdata1/volume-x"])
