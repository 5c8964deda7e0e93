"""Issue 13's daemon faults, on this machine's libvirtd and tgtd, each restarted by
scripts/daemons.sh as it comes back after dying (``restart libvirtd``: running guests keep
running; ``restart tgtd``: killed, then started on the portals it had, its targets back from
their conf files with ``tgt-admin -e``). Nothing lost, nothing left:

- libvirtd restarted in the middle of a build (the run stopped at ``host-work``: the disk made,
  not yet the config drive and domain; then let go on): the build finishes, or ends in ERROR
  with a reason and a clean host; the same task run again converges to one ACTIVE server;
- tgtd restarted while a booted guest writes to an attached volume: the writes blocked during
  the outage go through once the target is back, and what was written before, during and
  after reads back intact (checksums inside the guest);
- an attach killed with SIGKILL at ``outcome`` (hot-plugged into the booted guest, not yet
  recorded), then the same task run again: one attachment, one target with one CHAP account,
  one libvirt secret, and the guest sees the disk once.

The last two share one guest booted from the test image. These tests restart daemons that
every test on this machine uses: the suite runs serially (CI does); the daemons are back at the
end of each test, even when it fails."""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import virtconn
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import runner, targets
from sqlalchemy import select

from tests.helpers import guest
from tests.helpers.inproc import call
from tests.integration.faults.test_faults import (
    ROOT,
    _kill_tree,
    _on_host,
    _orphans,
    _playbook,
    _server,
    faults_world,
)

DAEMONS = ROOT / "scripts" / "daemons.sh"
NO_RING = pathlib.Path("/nonexistent-ring-dir")


def _host_pids(name: str) -> set:
    """This machine's processes of a daemon (lab containers run their own)."""
    here = os.readlink("/proc/self/ns/pid")
    pids = set()
    for pid in subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split():
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/ns/pid") == here:
                pids.add(int(pid))
    return pids


def _daemons(*args):
    done = subprocess.run([str(DAEMONS), *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"daemons.sh {' '.join(args)}: {done.stdout}{done.stderr}"


@contextlib.contextmanager
def _daemons_back():
    """Whatever happens in the block, the daemons run again afterwards, and this process drops
    its libvirt connections (they died with the old libvirtd; libvirt notices only when a call
    fails)."""
    try:
        yield
    finally:
        subprocess.run([str(DAEMONS), "start"], capture_output=True, timeout=180)
        virtconn.disconnect_all()


def _wait_stopped(run, stop_file: pathlib.Path, point: str):
    deadline = time.monotonic() + 180
    while not stop_file.exists():
        assert run.poll() is None, run.communicate()[0][-3000:]
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world():
    with faults_world() as w:
        yield w


# ---------------------------------------------------------------- (a) libvirtd mid-build
def test_libvirtd_restarted_in_the_middle_of_a_build_then_the_same_task_converges(world, tmp_path):
    name = "fx-libvirtd"
    step = {"step": "server", "name": name}
    run = _playbook(world, tmp_path, step, "host-work")
    with _daemons_back():
        try:
            _wait_stopped(run, tmp_path / "stopped", "host-work")
            old = _host_pids("libvirtd")
            _daemons("restart", "libvirtd")
            assert old and _host_pids("libvirtd") and not old & _host_pids("libvirtd")
            (tmp_path / "stopped").unlink()  # the build goes on, its libvirt connection gone
            first = run.communicate(timeout=600)[0]
        finally:
            if run.poll() is None:
                _kill_tree(run)
    rows, allocations, ports = _server(world, name)
    assert len(rows) == 1, rows
    row = rows[0]
    if run.returncode == 0:  # the build finished
        assert row["status"] == "ACTIVE" and len(allocations) == 1, (row, allocations)
    else:  # ERROR with a reason, nothing left on the host, the claim given back
        fault = (row.get("fault") or {}).get("message", "")
        assert row["status"] == "ERROR" and fault, (row, first[-3000:])
        assert _on_host(world, row["id"], [p["mac_address"] for p in ports]) == ([], [], []), fault
        assert row["host"] is None and allocations == [], (row["host"], allocations)
    print(f"first run: rc {run.returncode}, {row['status']} {(row.get('fault') or {}).get('message', '')}")
    again = _playbook(world, tmp_path, step)
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0, out[-3000:]
    rows, allocations, ports = _server(world, name)
    assert [r["status"] for r in rows] == ["ACTIVE"] and len(allocations) == 1, (rows, allocations)
    domains, disks, dhcp = _on_host(world, rows[0]["id"], [p["mac_address"] for p in ports])
    assert domains == [rows[0]["id"]] and len(dhcp) == len(ports), (domains, disks, dhcp)
    assert _orphans(world, NO_RING) == []
    assert not call("server", {"name": name, "state": "absent"}, world.tv).get("failed")


# ---------------------------------------------------------------- one booted guest for (b), (c)
@pytest.fixture(scope="module")
def booted(world):
    image = guest.ensure_test_image()
    for module, args in (("flavor", {"name": "fx.boot", "ram": 256, "vcpus": 1, "disk": 1}),
                         ("image", {"name": "fx-test", "filename": str(image), "disk_format": "qcow2",
                                    "container_format": "bare"})):
        made = call(module, args, world.tv)
        assert not made.get("failed"), (module, made.get("msg"))
    made = call("server", {"name": "fx-guest", "image": "fx-test", "flavor": "fx.boot", "network": "mx-net",
                           "key_name": "mx-key"}, world.tv)
    assert made.get("server", {}).get("status") == "ACTIVE", made.get("msg")
    vm = SimpleNamespace(name="fx-guest", id=made["server"]["id"], ip=made["server"]["networks"]["mx-net"][0],
                         key=world.dirs["inputs"] / "key")
    try:
        guest.wait_for_ssh(vm.ip, vm.key, timeout=300)
        yield vm
    finally:
        call("server", {"name": "fx-guest", "state": "absent"}, world.tv)


def _in_guest(vm, command: str, timeout: float = 120) -> str:
    return guest.ssh_run(vm.ip, vm.key, command, timeout=timeout).stdout


def _wait_in_guest(vm, command: str, timeout: float = 60, what: str = "") -> str:
    deadline = time.monotonic() + timeout
    while True:
        done = guest.ssh_run(vm.ip, vm.key, command, timeout=30, check=False)
        if done.returncode == 0:
            return done.stdout
        assert time.monotonic() < deadline, f"{what or command!r} not true in the guest within {timeout:g} s"
        time.sleep(0.5)


def _disks(vm) -> list:
    return sorted(_in_guest(vm, "ls /sys/block | grep '^vd' || true").split())


def _attach(world, vm, volume: str) -> str:
    made = call("volume", {"name": volume, "size": 1}, world.tv)
    assert made.get("volume", {}).get("status") == "available", made.get("msg")
    attached = call("server_volume", {"server": vm.name, "volume": volume}, world.tv)
    assert attached.get("volume", {}).get("status") == "in-use", attached.get("msg")
    _wait_in_guest(vm, "test -b /dev/vdb", what="/dev/vdb")
    return made["volume"]["id"]


def _detach_and_delete(world, vm, volume: str):
    call("server_volume", {"server": vm.name, "volume": volume, "state": "absent"}, world.tv)
    _wait_in_guest(vm, "! test -e /dev/vdb", what="/dev/vdb gone")
    gone = call("volume", {"name": volume, "state": "absent"}, world.tv)
    assert not gone.get("failed"), gone.get("msg")


# ---------------------------------------------------------------- (b) tgtd under guest I/O
CHUNKS = 24  # the writer's chunks of 256 KiB, one every half second, each flushed to the volume
WRITER = (
    f"i=0; while [ $i -lt {CHUNKS} ]; do "
    "dd if=/tmp/b of=/dev/vdb bs=64k count=4 skip=$((i*4)) seek=$((64+i*4)) conv=fsync 2>/dev/null || exit 1; "
    "i=$((i+1)); echo $i > /tmp/b.done; sleep 0.5; done"
)


def test_tgtd_restarted_under_guest_io_then_the_io_resumes_and_the_data_is_intact(world, booted):
    vm = booted
    volume_id = _attach(world, vm, "fx-io")
    tgt = targets.TgtTarget(runner.LocalRunner())
    try:
        before = tgt.show(volume_id)
        assert before is not None and before["sessions"] == 1, before
        # Before: 4 MiB at offset 0, on the volume. During: 6 MiB at 4 MiB, in 256 KiB chunks
        # flushed one by one, the restart in the middle. After: 1 MiB at 10 MiB.
        sums = _in_guest(vm, "dd if=/dev/urandom of=/tmp/a bs=64k count=64 2>/dev/null && "
                             f"dd if=/dev/urandom of=/tmp/b bs=64k count={CHUNKS * 4} 2>/dev/null && "
                             "dd if=/dev/urandom of=/tmp/c bs=64k count=16 2>/dev/null && "
                             "dd if=/tmp/a of=/dev/vdb bs=64k conv=fsync 2>/dev/null && "
                             "rm -f /tmp/b.done /tmp/b.rc && sha256sum /tmp/a /tmp/b /tmp/c").split()
        want = dict(zip(sums[1::2], sums[0::2]))
        _in_guest(vm, f"setsid sh -c '({WRITER}); echo $? > /tmp/b.rc' </dev/null >/dev/null 2>&1 &")
        _wait_in_guest(vm, "test $(cat /tmp/b.done 2>/dev/null || echo 0) -ge 2", what="the writer started")
        old = _host_pids("tgtd")
        with _daemons_back():
            _daemons("restart", "tgtd")
        assert old and _host_pids("tgtd") and not old & _host_pids("tgtd")
        done_at_restart = int(_in_guest(vm, "cat /tmp/b.done").strip())
        assert done_at_restart < CHUNKS, "the writer ended before tgtd came back: no I/O crossed the restart"
        # The target is back from its conf file, as it was: LUN, CHAP account, ACL.
        after = tgt.show(volume_id)
        assert after is not None and after["luns"].get(1, {}).get("Backing store path") == \
            before["luns"][1]["Backing store path"], after
        assert after["accounts"] == before["accounts"] and after["acl"] == before["acl"], (before, after)
        # The guest's writes resume: the writer ends well, QEMU logged in again.
        _wait_in_guest(vm, "test -e /tmp/b.rc", timeout=180, what="the writer finished")
        assert _in_guest(vm, "cat /tmp/b.rc").strip() == "0", _in_guest(vm, "dmesg | tail -20")
        assert tgt.show(volume_id)["sessions"] == 1
        _in_guest(vm, "dd if=/tmp/c of=/dev/vdb bs=64k seek=160 conv=fsync 2>/dev/null")
        # Read back from the volume itself (the guest's page cache dropped).
        read = _in_guest(vm, "sync; echo 3 > /proc/sys/vm/drop_caches; "
                             "dd if=/dev/vdb bs=64k count=64 2>/dev/null | sha256sum; "
                             f"dd if=/dev/vdb bs=64k skip=64 count={CHUNKS * 4} 2>/dev/null | sha256sum; "
                             "dd if=/dev/vdb bs=64k skip=160 count=16 2>/dev/null | sha256sum").split()
        assert [read[0], read[2], read[4]] == [want["/tmp/a"], want["/tmp/b"], want["/tmp/c"]], (read, want)
        errors = _in_guest(vm, "dmesg | grep -i 'i/o error' || true").strip()
        assert errors == "", errors
        print(f"tgtd restarted after {done_at_restart} of {CHUNKS} chunks")
    finally:
        _detach_and_delete(world, vm, "fx-io")
    assert _orphans(world, NO_RING) == []


# ---------------------------------------------------------------- (c) SIGKILL at outcome
def test_attach_killed_at_outcome_then_the_same_task_converges(world, booted, tmp_path):
    vm = booted
    name = "fx-kill"
    made = call("volume", {"name": name, "size": 1}, world.tv)
    assert made.get("volume", {}).get("status") == "available", made.get("msg")
    volume_id = made["volume"]["id"]
    step = {"step": "attach", "name": name, "server": vm.name}
    killed = _playbook(world, tmp_path, step, "outcome")
    try:
        try:
            _wait_stopped(killed, tmp_path / "stopped", "outcome")
        finally:
            _kill_tree(killed)
        # Killed after the hot-plug, before anything was recorded: the guest has the disk.
        _wait_in_guest(vm, "test -b /dev/vdb", what="the disk hot-plugged by the killed run")
        again = _playbook(world, tmp_path, step)
        out = again.communicate(timeout=600)[0]
        assert again.returncode == 0, out[-3000:]
        with world.catalog.read() as tx:
            vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == volume_id))
            atts = tx.all(select(tx.t.attachments).where(tx.t.attachments.c.volume_id == volume_id))
        assert vol["status"] == "in-use" and [a["status"] for a in atts] == ["attached"], (vol, atts)
        # One of each on the hosts: the disk in the domain, the target with one CHAP account, the secret.
        domain = ET.fromstring(world.host.conn.lookupByUUIDString(vm.id).XMLDesc(0))
        plugged = [d.find("target").get("dev") for d in domain.findall("devices/disk")
                   if volume_id in (d.find("source").get("name") or "")]
        assert plugged == ["vdb"], plugged
        live = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"],
                              capture_output=True, text=True, check=True).stdout
        assert len([line for line in live.splitlines() if line.startswith("Target ") and volume_id in line]) == 1, live
        assert len(targets.TgtTarget(runner.LocalRunner()).show(volume_id)["accounts"]) == 1
        secrets = subprocess.run(["virsh", "-c", "qemu:///system", "secret-list"], capture_output=True,
                                 text=True, check=True).stdout
        assert secrets.count(f"ministack-volume-{volume_id}") == 1, secrets
        # The guest sees the disk once, 1 GiB.
        _wait_in_guest(vm, "test -b /dev/vdb", what="/dev/vdb after the re-run")
        assert _disks(vm) == ["vda", "vdb"]
        assert _in_guest(vm, "cat /sys/block/vdb/size").strip() == str(2 * 1024 * 1024)
        assert _orphans(world, NO_RING) == []
    finally:
        _detach_and_delete(world, vm, name)
    assert _orphans(world, NO_RING) == []
