"""Issue 13, items 2, 3 and 10, on this machine's libvirtd and tgtd (no guest OS boots: the
servers run a blank disk, so no guest CPU is spent).

- item 2: any exception during a build (a raw libvirtError, KeyboardInterrupt) cleans the host
  it built on (domain, disk, config drive, DHCP reservation) before the claim is released; the
  server ends ERROR with the reason;
- item 3: every undo step of a failed attach runs even when one fails (the blank guest never
  acknowledges an unplug, so the detach times out), and all are reported;
- item 10: simultaneous creates of one name, in separate processes, make one resource."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import tempfile

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


@pytest.fixture(scope="module")
def world():
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
]


def test_simultaneous_creates_of_one_name_make_one(world, tmp_path):
    """Two processes run each create at the same moment: one resource of each name, and neither
    run fails (the server's flavor fits no host: no guest is built, the race is on the record)."""
    made = call("flavor", {"name": "mx.race", "ram": 8192, "vcpus": 1, "disk": 1}, world.tv)
    assert not made.get("failed"), made
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
