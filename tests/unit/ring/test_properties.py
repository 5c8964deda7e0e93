"""Random topologies and changes: the invariants hold every time."""

from __future__ import annotations

import os
import random

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R


def random_devices(rnd, next_id):
    devs = []
    for _group in range(rnd.randint(1, 3) if rnd.random() < 0.3 else 1):
        region = rnd.randint(1, 3)
        for zone in range(1, rnd.randint(2, 5)):
            for _server in range(rnd.randint(1, 3)):
                ip = f"10.{region}.{zone}.{next_id}"  # one ip per server, never reused
                for disk in range(rnd.randint(1, 4)):
                    devs.append({"id": next_id, "region": region, "zone": zone, "ip": ip,
                                 "port": 6200, "device": f"d{disk}", "weight": rnd.choice([50, 100, 100, 200])})
                    next_id += 1
    return devs, next_id


def check_ring(state, replicas):
    rows = R.decoded_rows(state)
    ids = {d["id"] for d in state["devs"] if d}
    for part in range(len(rows[0])):
        devs = [row[part] for row in rows if part < len(row)]
        assert len(set(devs)) == len(devs), f"partition {part} twice on one device"
        assert set(devs) <= ids
    assert sum(len(r) for r in rows) == sum(d["parts"] for d in state["devs"] if d)


@pytest.mark.parametrize("seed", range(int(os.environ.get("RING_PROPERTY_SEEDS", "25"))))
def test_random_changes_keep_the_invariants(seed):
    rnd = random.Random(seed)
    devices, next_id = random_devices(rnd, 0)
    while len({(d["region"], d["zone"]) for d in devices}) < 3:
        more, next_id = random_devices(rnd, (next_id // 1000 + 1) * 1000)
        devices += more
    devices = [dict(d, id=i) for i, d in enumerate(devices)]
    next_id = len(devices)
    replicas = rnd.choice([2, 3, 3, 2.5])
    state = R.rebalance(None, devices, part_power=rnd.randint(6, 9), replicas=replicas, seed=seed)
    check_ring(state, replicas)
    # a new ring reaches its quotas exactly (balance is rounding) and the plan's dispersion
    assert all(d["parts_wanted"] == 0 for d in state["devs"] if d)
    for step in range(4):
        before = R.decoded_rows(state)
        was_pending = state["pending"]
        action = rnd.choice(["add", "remove", "weight", "none"])
        gone = set()
        if action == "add":
            devices = [*devices, {"id": next_id, "region": devices[0]["region"], "zone": rnd.randint(1, 4),
                                  "ip": f"10.9.9.{next_id}", "port": 6200, "device": "new", "weight": 100}]
            next_id += 1
        elif action == "remove" and len(devices) > replicas + 2:
            victim = rnd.choice(devices)
            gone.add(victim["id"])
            devices = [d for d in devices if d is not victim]
        elif action == "weight":
            victim = rnd.randrange(len(devices))
            devices = [dict(d, weight=rnd.choice([0, 50, 300])) if i == victim else d
                       for i, d in enumerate(devices)]
        if sum(1 for d in devices if d["weight"] > 0) < replicas:
            break
        state = R.rebalance(R.pretend_min_part_hours_passed(state), devices, part_power=state["part_power"],
                            replicas=replicas, seed=step)
        check_ring(state, replicas)
        after = R.decoded_rows(state)
        for part in range(len(after[0])):
            changed = [r for r in range(len(after)) if part < len(after[r]) and before[r][part] != after[r][part]]
            lost = [r for r in changed if before[r][part] in gone]
            assert len(changed) - len(lost) <= 1 or lost, f"partition {part} moved {changed} in one rebalance"
        if action == "none" and not was_pending:
            assert state["moved"] == 0
