"""Issue 13, items 2, 3 and 10, on this machine's libvirtd and tgtd (no guest OS boots: the
servers run a blank disk, so no guest CPU is spent).

- item 2: any exception during a build (a raw libvirtError, KeyboardInterrupt) cleans the host
  it built on (domain, disk, config drive, DHCP reservation) before the claim is released; the
  server ends ERROR with the reason;
- item 3: every undo step of a failed attach runs even when one fails (the blank guest never
  acknowledges an unplug, so the detach times out), and all are reported;
- item 10: simultaneous creates of one name, in separate processes, make one resource."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils.block import attach as attach_mod  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.drivers import (  # noqa: E402
    libvirt_qemu,
)
from sqlalchemy import select  # noqa: E402

from tests.helpers.inproc import call  # noqa: E402
from tests.helpers.race import race  # noqa: E402
from tests.integration.matrix.test_bad_input_matrix import ROOT, World  # noqa: E402

TGT_CONF = pathlib.Path("/etc/tgt/conf.d")


@contextlib.contextmanager
def faults_world():
    """The matrix's World (this machine's libvirtd with its own pools, a file-backend block host
    on the local tgtd, a blank image and an isolated network), with a secret key for attaches."""
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-faults-", dir="/var/tmp"))
    w = World(work)
    w.tv["ministack_secret_key"] = "faults-test-key-0123456789"
    try:
        w.setup()
        yield w
    finally:
        w.teardown()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def world():
    with faults_world() as w:
        yield w


def _server(world, name):
    with world.catalog.read() as tx:
        s = tx.t.servers
        rows = tx.all(select(s).where(s.c.name == name, s.c.vm_state != "deleted"))
        allocations = tx.all(select(tx.t.allocations).where(tx.t.allocations.c.server_id.in_([r["id"] for r in rows])))
        ports = tx.all(select(tx.t.ports).where(tx.t.ports.c.server_id.in_([r["id"] for r in rows])))
    return rows, allocations, ports


def _on_host(world, server_id, macs):
    """What the host still has of a server: its domain, its volumes, its DHCP reservations."""
    conn = world.host.conn
    doms = [d.UUIDString() for d in conn.listAllDomains(0) if d.UUIDString() == server_id]
    vols = world.host.instance_volumes(server_id + ".")
    dhcp = []
    for net in conn.listAllNetworks(0):
        dhcp += [mac for mac in re.findall(r"<host mac='([^']+)'", net.XMLDesc(0)) if mac in macs]
    return doms, vols, dhcp


def _fail_after(monkeypatch, cls, method, exc):
    original = getattr(cls, method)

    def failing(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the step's work is done on the host, then it fails
        raise exc

    monkeypatch.setattr(cls, method, failing)


@pytest.mark.parametrize("where, exc", [
    ("spawn", libvirt.libvirtError("injected: stream error over qemu+ssh")),
    ("config_drive", KeyboardInterrupt()),
], ids=["libvirtError-after-spawn", "ctrl-c-after-config-drive"])
def test_any_exception_during_a_build_cleans_the_host_then_releases_the_claim(world, monkeypatch, where, exc):
    name = f"fault-{where}"
    _fail_after(monkeypatch, libvirt_qemu.LibvirtQemuDriver, where, exc)
    args = {"name": name, "image": "mx-img", "flavor": "mx.nano", "network": "mx-net", "wait": False}
    if isinstance(exc, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            call("server", args, world.tv)
    else:
        result = call("server", args, world.tv)
        assert result.get("failed") and "injected: stream error" in result["msg"], result
    monkeypatch.undo()
    rows, allocations, ports = _server(world, name)
    assert len(rows) == 1
    row = rows[0]
    # nothing left on the host (domain, disk and config drive, DHCP reservation) ...
    assert _on_host(world, row["id"], [p["mac_address"] for p in ports]) == ([], [], [])
    # ... and only then the claim released; ERROR with the reason
    assert row["host"] is None and allocations == [], (row["host"], allocations)
    assert row["status"] == "ERROR" and row["task_state"] is None, row
    assert ("injected: stream error" if where == "spawn" else "KeyboardInterrupt") in row["fault"]["message"]
    gone = call("server", {"name": name, "state": "absent"}, world.tv)
    assert not gone.get("failed"), gone


def test_a_failed_attach_runs_every_undo_step_and_reports_them_all(world, monkeypatch):
    made = call("server", {"name": "fault-att", "image": "mx-img", "flavor": "mx.nano", "network": "mx-net",
                           "wait": False}, world.tv)
    assert made["server"]["status"] == "ACTIVE", made.get("msg")
    vol = call("volume", {"name": "fault-vol", "size": 1}, world.tv)
    assert vol["volume"]["status"] == "available", vol.get("msg")
    volume_id = vol["volume"]["id"]
    # The hot-plug is done, then something fails: the undo detaches (the blank guest never lets go
    # of the disk: the detach times out), drops the libvirt secret, removes the target.
    _fail_after(monkeypatch, attach_mod.LibvirtAttacher, "attach", BlockError("injected after the hot-plug"))
    original_detach = attach_mod.LibvirtAttacher.detach

    def quick_detach(self, *args, **kwargs):
        self.detach_timeout = 2
        return original_detach(self, *args, **kwargs)

    monkeypatch.setattr(attach_mod.LibvirtAttacher, "detach", quick_detach)
    try:
        result = call("server_volume", {"server": "fault-att", "volume": "fault-vol"}, world.tv)
        monkeypatch.undo()
        assert result.get("failed"), result
        assert "injected after the hot-plug" in result["msg"]
        assert "Undoing it failed too: unplugging volume" in result["msg"]
        assert "did not release it within 2 s" in result["msg"]
        # every other step ran: no target (live or persisted), no CHAP account, no secret
        live = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"],
                              capture_output=True, text=True, check=True).stdout
        assert volume_id not in live
        assert not [f for f in TGT_CONF.glob("*") if volume_id in f.name]
        assert not attach_mod.LibvirtAttacher(conn=world.host.conn).secret_exists(volume_id)
        with world.catalog.read() as tx:
            shown = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == volume_id))
        assert shown["status"] == "error" and "did not release it" in (shown.get("status_reason") or ""), shown
    finally:
        monkeypatch.undo()
        call("server", {"name": "fault-att", "state": "absent"}, world.tv)


RACES = [
    ("server", {"name": "race-srv", "image": "mx-img", "flavor": "mx.race", "network": "mx-net", "wait": False},
     "servers"),
    ("volume", {"name": "race-vol", "size": 1}, "volumes"),
    ("flavor", {"name": "race-flv", "ram": 64, "vcpus": 1, "disk": 1}, "flavors"),
    ("keypair", {"name": "race-key", "public_key": "{pubkey}"}, "keypairs"),
    ("network", {"name": "race-net", "cidr": "10.213.77.0/24", "mode": "isolated", "realize": False}, "networks"),
    ("server_group", {"name": "race-grp", "policy": "anti-affinity"}, "server_groups"),
    ("aggregate", {"name": "race-agg"}, "aggregates"),
    ("image", {"name": "race-img", "filename": "{blank}"}, "images"),
    ("server_image", {"name": "race-snap", "server": "race-snap-srv"}, "images"),
]


def test_simultaneous_creates_of_one_name_make_one(world, tmp_path):
    """Two processes run each create at the same moment: one resource of each name, and neither
    run fails (the server's flavor fits no host: no guest is built, the race is on the record)."""
    made = call("flavor", {"name": "mx.race", "ram": 8192, "vcpus": 1, "disk": 1}, world.tv)
    assert not made.get("failed"), made
    made = call("server", {"name": "race-snap-srv", "image": "mx-img", "flavor": "mx.nano", "network": "mx-net",
                           "wait": False}, world.tv)
    assert made["server"]["status"] == "ACTIVE", made.get("msg")
    tasks = [(module, {k: (world.subst.get(v, v) if isinstance(v, str) else v) for k, v in args.items()})
             for module, args, _table in RACES]
    results = race(tasks, world.tv, str(tmp_path), processes=2)
    wrong = []
    with world.catalog.read() as tx:
        for (module, args, table), outcome in zip(RACES, results):
            t = tx.tables[table]
            query = select(t).where(t.c.name == args["name"])
            if module == "server":
                query = query.where(t.c.vm_state != "deleted")
            rows = tx.all(query)
            if len(rows) != 1:
                wrong.append((module, len(rows), outcome))
            elif module != "server" and any(r.get("failed") for r in outcome):
                wrong.append((module, "failed", outcome))
    assert wrong == [], wrong


# ---------------------------------------------------------------- SIGKILL at named points
PLAYBOOK = pathlib.Path(__file__).parent / "playbooks" / "step.yml"
# Each point of each operation; the ones marked full share their code path with one in the
# test command (workflow.run_job's points for volume and attach): kept out to fit its time.
_FULL = pytest.mark.full
KILLS = [("server", "intent-recorded"), ("server", "host-work"), ("server", "outcome"),
         pytest.param("volume", "intent-recorded", marks=_FULL), ("volume", "host-work"),
         pytest.param("volume", "outcome", marks=_FULL),
         pytest.param("attach", "intent-recorded", marks=_FULL), ("attach", "host-work"),
         ("ring", "host-work"), pytest.param("ring", "outcome", marks=_FULL)]


def _kill_tree(proc):
    """SIGKILL ansible-playbook and every process it started (its workers call setsid())."""
    pids, todo = [], [proc.pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(int(c) for c in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                   text=True).stdout.split())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)


def _playbook(world, tmp_path, extra, point=None):
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({**world.tv, **extra}))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    if point:
        env.update(MINISTACK_TEST_STOP_AT=point, MINISTACK_TEST_STOP_FILE=str(tmp_path / "stopped"))
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(PLAYBOOK), "-e", f"@{vars_file}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=str(ROOT))


def _orphans(world, ring_dir):
    """Everything on this machine that no live catalog record accounts for."""
    with world.catalog.read() as tx:
        servers = {r["id"] for r in tx.all(select(tx.t.servers).where(tx.t.servers.c.vm_state != "deleted"))}
        volumes = {r["id"] for r in tx.all(select(tx.t.volumes).where(tx.t.volumes.c.status != "deleted"))}
        attached = {r["volume_id"] for r in tx.all(select(tx.t.attachments).where(
            tx.t.attachments.c.status == "attached"))}
    conn = world.host.conn
    left = [f"domain {d.UUIDString()}" for d in conn.listAllDomains(0)
            if str(world.dirs["instances"]) in d.XMLDesc(0) and d.UUIDString() not in servers]
    left += [f"disk {v}" for v in world.host.instance_volumes("") if v.split(".")[0] not in servers]
    left += [f"volume file {f.name}" for f in world.dirs["volumes"].iterdir()
             if f.name.removeprefix("volume-") not in volumes]
    tgt = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"], capture_output=True,
                         text=True, check=True).stdout
    left += [f"target of {v}" for v in volumes - attached if f"volume-{v}" in tgt]
    left += [f"target conf {f.name}" for f in TGT_CONF.glob("*") if any(v in f.name for v in volumes - attached)]
    secrets = subprocess.run(["virsh", "-c", "qemu:///system", "secret-list"], capture_output=True, text=True).stdout
    left += [f"secret of {v}" for v in volumes - attached if v in secrets]
    left += [f"ring temp {f.name}" for f in ring_dir.glob(".*")] if ring_dir.exists() else []
    return left


@pytest.mark.parametrize("op, point", KILLS)
def test_sigkill_at_a_named_point_then_the_same_task_converges(world, tmp_path, op, point):
    name = f"kill-{op}-{point}"
    ring_dir = world.dirs["rings"] / name
    extra = {"step": op, "name": name}
    if op == "attach":
        made = call("server", {"name": f"{name}-srv", "image": "mx-img", "flavor": "mx.nano", "network": "mx-net",
                               "wait": False}, world.tv)
        assert made["server"]["status"] == "ACTIVE", made.get("msg")
        assert call("volume", {"name": name, "size": 1}, world.tv)["volume"]["status"] == "available"
        extra["server"] = f"{name}-srv"
    if op == "ring":
        extra.update(path=str(ring_dir), devices=[{"ip": "127.0.0.1", "port": 6200 + i, "device": "sdb", "zone": 1,
                                                   "weight": 100} for i in range(3)])
    killed = _playbook(world, tmp_path, extra, point)
    try:
        deadline = time.monotonic() + 180
        while not (tmp_path / "stopped").exists():
            assert killed.poll() is None, killed.communicate()[0][-3000:]
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.2)
    finally:
        _kill_tree(killed)
    again = _playbook(world, tmp_path, extra)
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0, out[-3000:]
    if op == "server":
        rows, allocations, _ports = _server(world, name)
        assert [r["status"] for r in rows] == ["ACTIVE"] and len(allocations) == 1, (rows, allocations)
    elif op in ("volume", "attach"):
        with world.catalog.read() as tx:
            vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.name == name))
        assert vol["status"] == ("available" if op == "volume" else "in-use"), vol
    else:
        assert sorted(f.name for f in ring_dir.iterdir()) == ["object.builder.json", "object.ring.gz"]
    assert _orphans(world, ring_dir) == []
    if op == "attach":  # the blank guest never lets go of a disk: remove the server, then its volume
        assert not call("server", {"name": f"{name}-srv", "state": "absent"}, world.tv).get("failed")
    if op in ("attach", "volume"):
        assert not call("volume", {"name": name, "state": "absent"}, world.tv).get("failed")
    if op == "server":
        assert not call("server", {"name": name, "state": "absent"}, world.tv).get("failed")
