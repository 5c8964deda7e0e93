"""Claims and host states: capacity rules, and two processes racing for the last room."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import (
    ClaimFailed,
    Conflict,
    NotFound,
    aggregates,
    claim,
    host_states,
    open_catalog,
    release,
)
from sqlalchemy import insert, select


def add_host(tx, host, vcpus=4, memory_mb=4096, local_gb=40, **extra):
    row = {
        "id": f"svc-{host}",
        "host": host,
        "binary": "nova-compute",
        "hypervisor_hostname": host,
        "hypervisor_type": "QEMU",
        "vcpus": vcpus,
        "memory_mb": memory_mb,
        "local_gb": local_gb,
        "cpu_allocation_ratio": 4.0,
        "ram_allocation_ratio": 1.0,
        "disk_allocation_ratio": 1.0,
        "reserved_host_memory_mb": 512,
        "reserved_host_disk_mb": 0,
        "reserved_host_cpus": 0,
        "enabled": True,
        "forced_down": False,
        "failed_builds": 0,
        "created_at": tx.now(),
        "last_seen": tx.now(),
    }
    row.update(extra)
    tx.execute(insert(tx.t.compute_services), row)


def test_memory_claims_respect_reserved_and_ratio(catalog):
    with catalog.begin() as tx:
        add_host(tx, "c1", memory_mb=2048)  # 2048 - 512 reserved = 1536 allocatable
        claim(tx, "c1", "s1", 1, 1024, 1)
        with pytest.raises(ClaimFailed, match=r"Free memory 512.00 MB < requested 1024 MB"):
            claim(tx, "c1", "s2", 1, 1024, 1)
        claim(tx, "c1", "s3", 1, 512, 1)  # exactly the last room fits


def test_vcpu_overcommit_uses_allocation_ratio(catalog):
    with catalog.begin() as tx:
        add_host(tx, "c1", vcpus=2, memory_mb=100000)  # 2 * 4.0 = 8 vcpus allocatable
        for n in range(4):
            claim(tx, "c1", f"s{n}", 2, 256, 0)
        with pytest.raises(ClaimFailed, match=r"Insufficient compute resources on host c1: Free vcpu 0.00 VCPU"):
            claim(tx, "c1", "s9", 1, 256, 0)


def test_disk_reserved_rounds_up_to_gb(catalog):
    with catalog.begin() as tx:
        add_host(tx, "c1", local_gb=10, reserved_host_disk_mb=1)  # 1 MB reserved takes 1 GB
        with pytest.raises(ClaimFailed, match=r"Free disk 9.00 GB < requested 10 GB"):
            claim(tx, "c1", "s1", 1, 256, 10)


def test_claim_is_idempotent_and_conflicts_are_named(catalog):
    with catalog.begin() as tx:
        add_host(tx, "c1")
        add_host(tx, "c2")
        first = claim(tx, "c1", "s1", 1, 512, 1)
        assert claim(tx, "c1", "s1", 1, 512, 1)["id"] == first["id"]
        with pytest.raises(Conflict, match="already holds an allocation on host c1"):
            claim(tx, "c2", "s1", 1, 512, 1)
        with pytest.raises(NotFound, match=r"Compute host nowhere could not be found\."):
            claim(tx, "nowhere", "s2", 1, 512, 1)
        assert release(tx, "s1")["host"] == "c1"
        assert release(tx, "s1") is None
        claim(tx, "c2", "s1", 1, 512, 1)


def test_claim_needs_a_write_transaction(catalog):
    with catalog.read() as tx, pytest.raises(Conflict, match="write transaction"):
        claim(tx, "c1", "s1", 1, 512, 1)


def test_host_states_in_scheduler_format(catalog):
    with catalog.begin() as tx:
        add_host(tx, "c1", vcpus=8, memory_mb=8192, local_gb=100)
        add_host(tx, "c2", enabled=False, disabled_reason="maintenance")
        add_host(tx, "c3", last_seen=tx.now() - timedelta(seconds=300))
        claim(tx, "c1", "srv-a", 2, 1024, 10)
        s = tx.t.servers
        project = tx.scalar(select(tx.t.projects.c.id))
        tx.execute(insert(s), [
            {"id": "srv-a", "name": "a", "project_id": project, "host": "c1", "vm_state": "active",
             "status": "ACTIVE", "power_state": 1, "created_at": tx.now()},
            {"id": "srv-b", "name": "b", "project_id": project, "host": "c1", "vm_state": "building",
             "status": "BUILD", "task_state": "spawning", "power_state": 0, "created_at": tx.now()},
        ])
        agg = tx.execute(insert(tx.t.aggregates), {"uuid": "u1", "name": "agg1", "created_at": tx.now()})
        agg_id = agg.inserted_primary_key[0]
        tx.execute(insert(tx.t.aggregate_metadata), [
            {"aggregate_id": agg_id, "key": "availability_zone", "value": "az1"},
            {"aggregate_id": agg_id, "key": "SSD", "value": "true"},
        ])
        tx.execute(insert(tx.t.aggregate_hosts), {"aggregate_id": agg_id, "host": "c1"})
    with catalog.read() as tx:
        states = {s["name"]: s for s in host_states(tx)}
        aggs = aggregates(tx)
    c1 = states["c1"]
    for field in ("name", "enabled", "up", "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb",
                  "local_gb_used", "running_vms", "cpu_allocation_ratio", "ram_allocation_ratio",
                  "disk_allocation_ratio", "reserved_host_memory_mb", "hypervisor_type", "capabilities",
                  "instances", "num_io_ops", "failed_builds"):
        assert field in c1, field
    assert (c1["vcpus_used"], c1["memory_mb_used"], c1["local_gb_used"]) == (2, 1024, 10)
    assert c1["free_ram_mb"] == 8192 - 512 - 1024
    assert c1["running_vms"] == 2 and c1["instances"] == ["srv-a", "srv-b"] and c1["num_io_ops"] == 1
    assert c1["availability_zone"] == "az1" and states["c2"]["availability_zone"] == "nova"
    assert c1["up"] and c1["enabled"]
    assert not states["c2"]["enabled"] and states["c2"]["disabled_reason"] == "maintenance"
    assert not states["c3"]["up"]
    assert aggs == [{
        "id": agg_id, "uuid": "u1", "name": "agg1", "availability_zone": "az1",
        "metadata": {"availability_zone": "az1", "SSD": "true"}, "hosts": ["c1"],
        "created_at": aggs[0]["created_at"], "updated_at": None,
    }]


# -- two processes, one slot ----------------------------------------------------------


def _racer(url, server_id, barrier, results):
    catalog = open_catalog(url)
    barrier.wait()
    try:
        with catalog.begin() as tx:
            claim(tx, "c1", server_id, 1, 1024, 1)
            time.sleep(0.3)  # hold the transaction so that the other claim overlaps it
        results.put((server_id, "won"))
    except ClaimFailed as err:
        results.put((server_id, str(err)))
    except Exception as err:  # surfaced in the assertion below
        results.put((server_id, f"ERROR {type(err).__name__}: {err}"))


def race(url, racers=2):
    catalog = open_catalog(url)
    with catalog.begin() as tx:
        add_host(tx, "c1", memory_mb=1536)  # room for exactly one 1024 MB server
    catalog.dispose()
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(racers), ctx.Queue()
    workers = [ctx.Process(target=_racer, args=(url, f"s{n}", barrier, results)) for n in range(racers)]
    for w in workers:
        w.start()
    outcomes = dict(results.get(timeout=60) for _worker in workers)
    for w in workers:
        w.join(10)
    with catalog.read() as tx:
        held = tx.all(select(tx.t.allocations))
    return outcomes, held


def test_two_processes_claiming_the_last_room_sqlite(sqlite_url):
    outcomes, held = race(sqlite_url)
    assert sorted(outcomes.values())[-1] == "won"
    assert list(outcomes.values()).count("won") == 1, outcomes
    loser = next(v for v in outcomes.values() if v != "won")
    assert "Free memory 0.00 MB < requested 1024 MB" in loser
    assert len(held) == 1


@pytest.mark.postgres
def test_two_processes_claiming_the_last_room_postgres(postgres_url):
    outcomes, held = race(postgres_url)
    assert list(outcomes.values()).count("won") == 1, outcomes
    assert all(v == "won" or "Free memory 0.00 MB" in v for v in outcomes.values()), outcomes
    assert len(held) == 1


@pytest.mark.postgres
def test_claim_row_lock_alone_serialises_on_postgres(postgres_url):
    """Even without the catalog-wide write lock, FOR UPDATE on the host row keeps claims apart."""
    catalog = open_catalog(postgres_url)
    with catalog.begin() as tx:
        add_host(tx, "c1", memory_mb=1536)
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.engine import Tx

    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()

    def bare(server_id):
        opened = open_catalog(postgres_url)
        barrier.wait()
        try:
            with opened.engine.connect() as conn, conn.begin():
                claim(Tx(opened, conn, writable=True), "c1", server_id, 1, 1024, 1)
                time.sleep(0.3)
            results.put("won")
        except ClaimFailed:
            results.put("lost")

    workers = [ctx.Process(target=bare, args=(f"s{n}",)) for n in range(2)]
    for w in workers:
        w.start()
    outcomes = sorted(results.get(timeout=60) for _worker in workers)
    for w in workers:
        w.join(10)
    assert outcomes == ["lost", "won"]
