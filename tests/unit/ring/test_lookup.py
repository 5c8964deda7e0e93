"""Partition and node lookup: the reference test vectors and Swift's handoff order rules."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R
from conftest import topology

VECTORS = [
    (("AUTH_test", "c", "o"), "4e2772c453cbe15a19b26fbfbb223e31", 312),
    (("AUTH_test", "c", None), "0f65ef68c2db3f0768374d15c9a14cae", 61),
    (("AUTH_test", None, None), "c8bcccab3ddbfdc34b08e9223f4f5178", 802),
]


@pytest.mark.parametrize(("path", "digest", "part"), VECTORS)
def test_reference_vectors(path, digest, part):
    assert R.hash_path(*path, hash_path_prefix="changeme", hash_path_suffix="changeme") == digest
    assert R.partition_for(10, *path, hash_path_prefix="changeme", hash_path_suffix="changeme") == part


def test_object_needs_container():
    with pytest.raises(R.RingError, match="container is required"):
        R.hash_path("AUTH_a", None, "o")


def test_nodes_primaries_then_handoffs_in_new_zones_first():
    state = R.rebalance(None, topology(zones=5, servers=2, disks=2), part_power=10, seed=1)
    view = R.view_of(state)
    part, nodes = view.get_nodes("AUTH_test", "c", "o", "changeme", "changeme", handoffs=4)
    assert part == 312
    primaries, handoffs = nodes[:3], nodes[3:]
    assert [n["index"] for n in primaries] == [0, 1, 2]
    assert [n["handoff_index"] for n in handoffs] == [0, 1, 2, 3]
    assert len({n["id"] for n in nodes}) == 7
    # the first two handoffs are in the two zones that hold no primary
    assert {n["zone"] for n in handoffs[:2]} == {1, 2, 3, 4, 5} - {n["zone"] for n in primaries}
    assert "parts" not in primaries[0]
    assert view is R.view_of(state)  # decoded once


def test_every_device_eventually_a_handoff():
    state = R.rebalance(None, topology(zones=3, servers=2, disks=2), part_power=8, seed=1)
    view = R.view_of(state)
    nodes = view.get_part_nodes(5) + list(view.get_more_nodes(5))
    assert sorted(n["id"] for n in nodes) == list(range(12))
