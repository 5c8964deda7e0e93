# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claim throughput and safety under contention, on SQLite and PostgreSQL.

    python benchmarks/catalog/claims.py [URL ...]     (default: a temporary SQLite file)

P processes each try C claims of 1 vCPU / 256 MB / 1 GB, one claim per write transaction, on
one host with room for exactly ROOM servers. Prints claims/s and checks that exactly ROOM
claims won (never more: no over-allocation).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "collections"))

from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import (
    ClaimFailed,
    claim,
    open_catalog,
)
from sqlalchemy import func, insert, select

PROCESSES, CLAIMS, ROOM = 4, 50, 120


def worker(url, n, barrier, out):
    catalog = open_catalog(url)
    barrier.wait()
    won = 0
    for i in range(CLAIMS):
        try:
            with catalog.begin() as tx:
                claim(tx, "bench1", f"p{n}-s{i}", 1, 256, 1)
            won += 1
        except ClaimFailed:
            pass
    out.put(won)


def run(url):
    catalog = open_catalog(url)
    with catalog.begin() as tx:
        tx.execute(insert(tx.t.compute_services), {
            "id": "bench", "host": "bench1", "binary": "nova-compute", "hypervisor_hostname": "bench1",
            "hypervisor_type": "QEMU", "vcpus": ROOM, "memory_mb": ROOM * 256 + 512, "local_gb": ROOM,
            "cpu_allocation_ratio": 1.0, "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 1.0,
            "reserved_host_memory_mb": 512, "reserved_host_disk_mb": 0, "reserved_host_cpus": 0,
            "enabled": True, "forced_down": False, "failed_builds": 0, "created_at": tx.now()})
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, n, barrier, out)) for n in range(PROCESSES)]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    won = sum(out.get(timeout=600) for _proc in procs)
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    with catalog.read() as tx:
        held = tx.scalar(select(func.count()).select_from(tx.t.allocations))
    attempts = PROCESSES * CLAIMS
    print(f"{catalog.backend:10s} {attempts} claims by {PROCESSES} processes in {elapsed:.2f} s "
          f"({attempts / elapsed:.0f}/s); won {won}, allocations {held}, room {ROOM}: "
          f"{'OK' if won == held == ROOM else 'OVER-ALLOCATED' if held > ROOM else 'WRONG'}")


if __name__ == "__main__":
    urls = sys.argv[1:] or [f"sqlite:///{tempfile.mkdtemp()}/bench.db"]
    for url in urls:
        run(url)
