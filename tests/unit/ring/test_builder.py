"""Ring builder: placement quality, determinism, min_part_hours, movement limits, errors."""

from __future__ import annotations

import json

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R
from conftest import topology

NOW = 1_800_000_000
HOUR = 3600


def rows_of(state):
    return R.decoded_rows(state)


def parts_by_dev(state):
    return {d["id"]: d["parts"] for d in state["devs"] if d}


def test_saio_four_zones_is_perfect():
    devs = [{"region": 1, "zone": z, "ip": "127.0.0.1", "port": 6200 + 10 * z, "device": "sdb1", "weight": 1}
            for z in range(1, 5)]
    state = R.rebalance(None, devs, part_power=10, replicas=3, seed=1, now=NOW)
    assert state["balance"] == 0.0
    assert state["dispersion"] == 0.0
    assert state["moved"] == 3 * 1024
    assert sorted(parts_by_dev(state).values()) == [768] * 4
    json.dumps(state)  # plain data


def test_three_zones_one_replica_per_zone_per_partition():
    state = R.rebalance(None, topology(zones=3, servers=2, disks=4), part_power=12, seed=7, now=NOW)
    assert state["dispersion"] == 0.0
    assert state["balance"] < 0.5
    zone = {d["id"]: d["zone"] for d in state["devs"] if d}
    rows = rows_of(state)
    for part in range(4096):
        assert sorted(zone[row[part]] for row in rows) == [1, 2, 3]


def test_deterministic_for_a_seed_and_different_across_seeds():
    devs = topology(zones=4, servers=3, disks=3)
    a = R.rebalance(None, devs, part_power=11, seed=42, now=NOW)
    b = R.rebalance(None, devs, part_power=11, seed=42, now=NOW)
    c = R.rebalance(None, devs, part_power=11, seed=43, now=NOW)
    assert a == b
    assert a["replica2part2dev"] != c["replica2part2dev"]
    more = [*devs, {"region": 1, "zone": 5, "ip": "10.1.5.1", "port": 6200, "device": "sdb", "weight": 100}]
    a2 = R.rebalance(R.pretend_min_part_hours_passed(a), more, part_power=11, seed=5, now=NOW)
    b2 = R.rebalance(R.pretend_min_part_hours_passed(b), more, part_power=11, seed=5, now=NOW)
    assert a2 == b2


def test_weights_respected():
    devs = topology(zones=3, servers=2, disks=2)
    for i, d in enumerate(devs):
        d["weight"] = 200.0 if i % 2 else 100.0
    state = R.rebalance(None, devs, part_power=12, seed=1, now=NOW)
    assert state["balance"] < 1.0
    assert state["dispersion"] == 0.0
    by_weight = {}
    for d in state["devs"]:
        by_weight.setdefault(d["weight"], []).append(d["parts"])
    assert min(by_weight[200.0]) >= 2 * max(by_weight[100.0]) - 4


def _changed_per_partition(before, after):
    changed = {}
    for r, (old, new) in enumerate(zip(rows_of(before), rows_of(after))):
        for p, (a, b) in enumerate(zip(old, new)):
            if a != b:
                changed.setdefault(p, []).append(r)
    return changed


def test_adding_a_server_moves_one_replica_per_partition_at_most_and_balances():
    devs = topology(zones=4, servers=3, disks=4)
    first = R.rebalance(None, devs, part_power=12, seed=3, now=NOW)
    more = devs + [{"region": 1, "zone": 1, "ip": "10.1.1.9", "port": 6200, "device": f"sd{x}", "weight": 100}
                   for x in "bcde"]
    second = R.rebalance(first, more, part_power=12, seed=3, min_part_hours=1, now=NOW + 2 * HOUR)
    changed = _changed_per_partition(first, second)
    assert second["moved"] == sum(len(v) for v in changed.values()) > 0
    assert max(len(v) for v in changed.values()) == 1
    assert second["balance"] < 2.0
    assert second["dispersion"] == 0.0
    # the new server got its share, and only what it needed moved
    new_ids = {d["id"] for d in second["devs"] if d["ip"] == "10.1.1.9"}
    assert sum(d["parts"] for d in second["devs"] if d["id"] in new_ids) == second["moved"]
    # device ids of the first ring are kept
    assert [d["id"] for d in first["devs"]] == [d["id"] for d in second["devs"][: len(first["devs"])]]


def test_min_part_hours_holds_partitions_back():
    devs = topology(zones=4, servers=2, disks=2)
    first = R.rebalance(None, devs, part_power=10, seed=1, min_part_hours=24, now=NOW)
    more = [*devs, {"region": 1, "zone": 2, "ip": "10.1.2.7", "port": 6200, "device": "sdb", "weight": 100}]
    early = R.rebalance(first, more, part_power=10, seed=1, min_part_hours=24, now=NOW + 23 * HOUR)
    assert early["moved"] == 0
    assert early["pending"] is True
    later = R.rebalance(early, more, part_power=10, seed=1, min_part_hours=24, now=NOW + 24 * HOUR)
    assert later["moved"] > 0
    assert later["pending"] is False
    # partitions that just moved wait min_part_hours again
    again = R.rebalance(later, [*more[:-1], dict(more[-1], weight=300)], part_power=10, seed=1,
                        min_part_hours=24, now=NOW + 25 * HOUR)
    moved_now = set(_changed_per_partition(later, again))
    moved_before = set(_changed_per_partition(early, later))
    assert not moved_now & moved_before


def test_removed_device_gives_up_everything_even_within_min_part_hours():
    devs = topology(zones=4, servers=2, disks=3)
    first = R.rebalance(None, devs, part_power=10, seed=1, min_part_hours=24, now=NOW)
    gone = devs[4]
    fewer = [d for d in devs if d is not gone]
    second = R.rebalance(first, fewer, part_power=10, seed=1, min_part_hours=24, now=NOW + HOUR)
    gone_id = next(d["id"] for d in first["devs"] if d["device"] == gone["device"] and d["ip"] == gone["ip"])
    held = first["devs"][gone_id]["parts"]
    assert second["devs"][gone_id] is None
    assert all(gone_id not in row for row in rows_of(second))
    assert second["moved"] == held
    assert second["dispersion"] == 0.0


def test_zero_weight_drains_within_limits():
    devs = topology(zones=3, servers=2, disks=2)
    first = R.rebalance(None, devs, part_power=10, seed=1, min_part_hours=0, now=NOW)
    drained = [dict(d, weight=0) if i == 0 else d for i, d in enumerate(devs)]
    second = R.rebalance(first, drained, part_power=10, seed=1, min_part_hours=0, now=NOW)
    assert second["devs"][0]["parts"] == 0
    assert second["devs"][0]["weight"] == 0.0
    assert max(len(v) for v in _changed_per_partition(first, second).values()) == 1


def test_new_ids_do_not_reuse_ids_being_removed():
    devs = topology(zones=3, servers=1, disks=2)
    first = R.rebalance(None, devs, part_power=8, seed=1, now=NOW)
    swapped = [*devs[1:], {"region": 1, "zone": 1, "ip": "10.1.1.1", "port": 6200, "device": "sdz", "weight": 100}]
    second = R.rebalance(first, swapped, part_power=8, seed=1, now=NOW)
    new = next(d for d in second["devs"] if d and d["device"] == "sdz")
    assert new["id"] == len(devs)
    assert second["devs"][0] is None
    third = R.rebalance(second, [*swapped, dict(devs[0], device="sdy")], part_power=8, seed=1, now=NOW)
    assert next(d for d in third["devs"] if d and d["device"] == "sdy")["id"] == 0


def test_replicas_fractional_and_changed():
    devs = topology(zones=4, servers=2, disks=2)
    state = R.rebalance(None, devs, part_power=10, replicas=2.5, seed=1, now=NOW)
    rows = rows_of(state)
    assert [len(r) for r in rows] == [1024, 1024, 512]
    assert state["dispersion"] == 0.0
    grown = R.rebalance(state, devs, part_power=10, replicas=3, seed=1, now=NOW)
    assert [len(r) for r in rows_of(grown)] == [1024] * 3
    assert grown["moved"] == 512
    assert grown["dispersion"] == 0.0
    held_back = R.rebalance(grown, devs, part_power=10, replicas=2, seed=1, now=NOW)
    assert len(rows_of(held_back)) == 2
    assert held_back["pending"] is True  # every partition moved within min_part_hours
    shrunk = R.rebalance(grown, devs, part_power=10, replicas=2, seed=1, now=NOW + 2 * HOUR)
    assert shrunk["balance"] < 1
    assert shrunk["dispersion"] == 0.0


def test_overload_trades_balance_for_dispersion():
    # three servers with 12, 12 and 11 disks: as in Swift's overload documentation
    devs = []
    for s, n in enumerate((12, 12, 11), start=1):
        devs += [{"region": 1, "zone": 1, "ip": f"10.0.0.{s}", "port": 6200, "device": f"d{i}", "weight": 100}
                 for i in range(n)]
    plain = R.rebalance(None, devs, part_power=14, seed=1, now=NOW)
    assert plain["balance"] < 0.2
    assert 1.5 < plain["dispersion"] < 2.5  # swift-ring-builder: 1.90
    over = R.rebalance(None, devs, part_power=14, overload=0.1, seed=1, now=NOW)
    assert over["dispersion"] == 0.0
    assert 5 < over["balance"] < 10  # swift-ring-builder: 6.10


def test_unchanged_inputs_move_nothing():
    devs = topology(zones=3, servers=2, disks=2)
    first = R.rebalance(None, devs, part_power=10, seed=1, now=NOW)
    second = R.rebalance(first, devs, part_power=10, seed=9, now=NOW + 100 * HOUR)
    assert second["moved"] == 0
    assert second["replica2part2dev"] == first["replica2part2dev"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"devices": [{"ip": "10.0.0.1", "port": 6200, "device": "sdb", "weight": 1}]}, "missing required field 'zone'"),
        ({"part_power": 40}, "part_power must be an integer from 0 to 24"),
        ({"replicas": 0.5}, "replicas must be a number >= 1"),
        ({"min_part_hours": -1}, "min_part_hours must be an integer from 0 to 255"),
        ({"overload": -0.1}, "overload must be a fraction >= 0"),
        ({"replicas": 7}, "Replica count of 7 requires more than 6 devices"),
        ({"devices": [dict(topology()[0], weight="heavy"), *topology()[1:]]}, "'weight' must be a number"),
        ({"devices": [dict(topology()[0], port=70000), *topology()[1:]]}, "'port' must be between 1 and 65535"),
        ({"devices": [dict(topology()[0], device="a/b"), *topology()[1:]]}, "'device' must be a directory name"),
        ({"devices": [dict(topology()[0], colour="red"), *topology()[1:]]}, "unknown field 'colour'"),
        ({"devices": [*topology(), topology()[0]]}, "duplicate device"),
        ({"devices": "sdb"}, "devices must be a list"),
    ],
)
def test_bad_input_names_the_field(kwargs, message):
    args = {"devices": topology(zones=3, servers=1, disks=2), "part_power": 8, "replicas": 3}
    args.update(kwargs)
    with pytest.raises(R.RingError, match=message.replace("(", r"\(")):
        R.rebalance(previous=None, **args)


def test_part_power_cannot_change():
    first = R.rebalance(None, topology(), part_power=8, seed=1)
    with pytest.raises(R.RingError, match="part_power cannot change on an existing ring"):
        R.rebalance(first, topology(), part_power=9)


def test_previous_must_be_a_builder_state():
    with pytest.raises(R.RingError, match="not a ring builder state"):
        R.rebalance({"devs": []}, topology(), part_power=8)
