"""Issue 13, faults: two playbooks creating 20 servers each at the same time, on a PostgreSQL
catalog, against two compute hosts registered with small explicit capacity (room for a few
64 MB servers: most requests end in "No valid host was found"). The allocations never exceed
a host's capacity, and every server ends ACTIVE or ERROR with a reason (none stuck in BUILD).
The guests run a blank disk: nothing boots."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

pytest.importorskip("libvirt")

from sqlalchemy import select

from tests.helpers.inproc import call
from tests.integration.matrix.test_bad_input_matrix import ROOT, World

sys.path.insert(0, str(ROOT / "tests" / "unit" / "catalog"))
import catalog_pg

PLAYBOOK = pathlib.Path(__file__).parent / "playbooks" / "many.yml"
HOSTS = ("mx-cmp", "mx-cmp2")


@pytest.fixture(scope="module")
def world():
    if not catalog_pg.server_available():
        pytest.fail("PostgreSQL is not running: start it with scripts/daemons.sh start")
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    url, name = catalog_pg.create_database()
    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-pgrace-", dir="/var/tmp"))
    w = World(work)
    w.tv["ministack_catalog"] = url
    try:
        w.setup()
        for host in HOSTS:  # room for a few 64 MB guests each
            made = call("compute_service", {"host": host, "libvirt_uri": "qemu:///system", "vcpus": 2,
                                            "memory_mb": 160, "local_gb": 3, "reserved_host_memory_mb": 0,
                                            "ram_allocation_ratio": 1.0, "reserved_host_disk_mb": 0,
                                            "capabilities": {"virt_type": "qemu",
                                                             "instances_pool": w.host.instances_pool,
                                                             "images_pool": w.host.images_pool}}, w.tv)
            assert not made.get("failed"), made
        made = call("quota", {"instances": 100, "cores": 200, "ram": 100000}, w.tv)
        assert not made.get("failed"), made
        yield w
    finally:
        w.teardown()
        shutil.rmtree(work, ignore_errors=True)
        catalog_pg.drop_database(name)


@pytest.mark.postgres
def test_two_playbooks_of_20_servers_never_overcommit_and_every_server_ends_with_a_reason(world, tmp_path):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import hosts as host_lib

    procs = []
    for prefix in ("pa", "pb"):
        vars_file = tmp_path / f"{prefix}.json"
        vars_file.write_text(json.dumps({**world.tv, "prefix": prefix}))
        procs.append(subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(PLAYBOOK), "-e", f"@{vars_file}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(ROOT),
            env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}))
    outs = [proc.communicate(timeout=900)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [out[-2000:] for out in outs]
    with world.catalog.read() as tx:
        s = tx.t.servers
        rows = tx.all(select(s).where(s.c.vm_state != "deleted", s.c.name.like("p%-%")))
        allocations = tx.all(select(tx.t.allocations))
        usage = {host: host_lib._usage_by_host_one(tx, host) for host in HOSTS}
        limits = {host: host_lib._limits(tx.one_or_none(select(tx.t.compute_services).where(
            tx.t.compute_services.c.host == host))) for host in HOSTS}
    assert len(rows) == 40
    for host in HOSTS:
        for key in ("vcpus", "memory_mb", "disk_gb"):
            assert usage[host][key] <= limits[host][key], (host, key, usage[host], limits[host])
    active = [r for r in rows if r["status"] == "ACTIVE"]
    errors = [r for r in rows if r["status"] == "ERROR"]
    assert len(active) + len(errors) == 40, sorted({r["status"] for r in rows})
    assert all((r.get("fault") or {}).get("message") for r in errors)
    assert any("No valid host was found" in r["fault"]["message"] for r in errors)
    assert active and sorted(a["server_id"] for a in allocations) == sorted(r["id"] for r in active)
    running = {d.UUIDString() for d in world.host.conn.listAllDomains(0)}
    assert {r["id"] for r in active} <= running
