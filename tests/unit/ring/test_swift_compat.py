"""Our rings against upstream Swift 2.38.3 (run in .cache/venv-swift through a subprocess).

- Swift's own Ring class loads our .ring.gz and finds the same partition, primaries and
  handoffs as our lookup for many random paths;
- our .ring.gz is byte for byte what Swift's RingData.save writes for the same ring;
- our balance and dispersion equal swift-ring-builder's for the same assignment.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R
from conftest import topology

PREFIX, SUFFIX = "changeme", "changeme"


def _rings():
    saio = [{"region": 1, "zone": z, "ip": "127.0.0.1", "port": 6200 + 10 * z, "device": "sdb1", "weight": 1}
            for z in range(1, 5)]
    two_regions = topology(regions=2, zones=2, servers=2, disks=3)
    mixed = topology(zones=4, servers=3, disks=2)
    for i, d in enumerate(mixed):
        d["weight"] = 50.0 + 25 * (i % 3)
    holey = R.rebalance(None, topology(zones=4, servers=2, disks=2), part_power=9, seed=2)
    holey = R.rebalance(R.pretend_min_part_hours_passed(holey), topology(zones=4, servers=2, disks=2)[3:],
                        part_power=9, seed=2)
    uneven = []
    for s, n in enumerate((4, 4, 3), start=1):
        uneven += [{"region": 1, "zone": 1, "ip": f"10.0.0.{s}", "port": 6200, "device": f"d{i}", "weight": 1}
                   for i in range(n)]
    return {
        "saio": R.rebalance(None, saio, part_power=10, seed=1),
        "two_regions": R.rebalance(None, two_regions, part_power=12, seed=1),
        "mixed_fractional": R.rebalance(None, mixed, part_power=11, replicas=2.5, seed=1),
        "with_holes": holey,
        "undispersible": R.rebalance(None, uneven, part_power=10, seed=1),
        "pp17": R.rebalance(None, topology(zones=5, servers=4, disks=3), part_power=17, seed=1),
        # Erasure-coded 4+2: six fragments per partition, on the lab's three hosts of two devices and on
        # the all-in-one's eight devices of one server.
        "ec_4_2_lab": R.rebalance(None, topology(zones=3, servers=1, disks=2), part_power=10, replicas=6, seed=1),
        "ec_4_2_aio": R.rebalance(None, [{"region": 1, "zone": 1, "ip": "127.0.0.1", "port": 6200,
                                          "device": f"d{i}", "weight": 100} for i in range(1, 9)],
                                  part_power=10, replicas=6, seed=1),
    }


RINGS = _rings()


@pytest.mark.parametrize("name", sorted(RINGS))
def test_swift_ring_class_finds_the_same_nodes(name, swift, tmp_path):
    state = RINGS[name]
    path = tmp_path / "object.ring.gz"
    R.write_ring(state, str(path))
    rnd = random.Random(name)
    paths = []
    for i in range(600):
        a = f"AUTH_{rnd.randrange(10**6)}"
        kind = i % 3
        c = None if kind == 0 else f"cont-{rnd.randrange(10**6)}\u00e9"
        o = None if kind < 2 else f"obj/{rnd.randrange(10**9)}"
        paths.append([a, c, o])
    handoffs = 3
    answer = swift(op="nodes", ring=str(path), prefix=PREFIX, suffix=SUFFIX, paths=paths, handoffs=handoffs)
    view = R.view_of(state)
    assert answer["partition_count"] == 2 ** state["part_power"]
    assert answer["replica_count"] == pytest.approx(state["replicas"])
    for (a, c, o), (part, ids, indexes, more) in zip(paths, answer["results"]):
        ours_part, nodes = view.get_nodes(a, c, o, PREFIX, SUFFIX, handoffs=handoffs)
        assert ours_part == part
        assert [n["id"] for n in nodes[: len(ids)]] == ids
        assert [n["index"] for n in nodes[: len(ids)]] == indexes
        assert [n["id"] for n in nodes[len(ids):]] == more


@pytest.mark.parametrize("name", ["saio", "with_holes", "mixed_fractional", "ec_4_2_lab", "ec_4_2_aio"])
def test_ring_file_is_byte_identical_to_swift_ringdata_save(name, swift, tmp_path):
    state = RINGS[name]
    ours, theirs = tmp_path / "object.ring.gz", tmp_path / "swift" / "object.ring.gz"
    theirs.parent.mkdir()
    R.write_ring(state, str(ours))
    swift(op="save", devs=R.ring_devs(state), rows=[list(r) for r in R.decoded_rows(state)],
          part_shift=32 - state["part_power"], version=state["version"], out=str(theirs))
    assert hashlib.sha256(ours.read_bytes()).hexdigest() == hashlib.sha256(theirs.read_bytes()).hexdigest()
    assert ours.read_bytes()[:4] == b"\x1f\x8b\x08\x08"  # gzip with the file name in its header
    back = R.read_ring_gz(str(ours))
    assert back["replica2part2dev_id"] == R.decoded_rows(state)
    assert back["devs"] == R.ring_devs(state)


@pytest.mark.parametrize("name", sorted(RINGS))
def test_balance_and_dispersion_match_swift_ring_builder(name, swift, tmp_path):
    state = RINGS[name]
    path = tmp_path / "object.ring.gz"
    R.write_ring(state, str(path))
    theirs = swift(op="metrics", ring=str(path), replicas=state["replicas"])
    assert state["balance"] == pytest.approx(theirs["balance"], abs=1e-9)
    assert state["dispersion"] == pytest.approx(theirs["dispersion"], abs=1e-9)
    if name == "undispersible":
        assert state["dispersion"] > 0  # three servers of 4/4/3 disks cannot hold one replica each


@pytest.mark.parametrize("name", ["ec_4_2_lab", "ec_4_2_aio"])
def test_swift_ec_policy_takes_our_ec_ring(name, swift, tmp_path):
    state = RINGS[name]
    R.write_ring(state, str(tmp_path / "object-2.ring.gz"))
    answer = swift(op="ec_policy", prefix=PREFIX, suffix=SUFFIX, dir=str(tmp_path), index=2, ec_type="liberasurecode_rs_vand", ndata=4, nparity=2)
    assert answer == {"loaded": True, "replica_count": 6, "fragments": 6, "decoded": True}
    for row in zip(*R.decoded_rows(state)):
        assert len(set(row)) == 6  # each fragment index of a partition on its own device
    # A 3-replica ring under an EC 4+2 policy: Swift refuses it, which is why object_ring derives the count.
    R.write_ring(RINGS["saio"], str(tmp_path / "object-3.ring.gz"))
    refused = swift(op="ec_policy", prefix=PREFIX, suffix=SUFFIX, dir=str(tmp_path), index=3, ec_type="liberasurecode_rs_vand", ndata=4,
                    nparity=2)
    assert not refused["loaded"] and "replica" in refused["error"].lower()


def test_ec_ring_dispersion_and_balance_match_upstream_builder(swift):
    devs = topology(zones=3, servers=1, disks=2)
    ours = R.rebalance(None, devs, part_power=10, replicas=6, seed=1)
    theirs = swift(op="build", devs=devs, part_power=10, replicas=6, seed=1)
    assert ours["dispersion"] == theirs["dispersion"] == 0.0
    assert abs(ours["balance"]) <= abs(theirs["balance"]) + 1e-9
