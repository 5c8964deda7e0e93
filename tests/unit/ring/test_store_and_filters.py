"""The object_ring module's library side (store.ensure_ring) and the filter plugin functions."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.filter import ring as ring_filters
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.store import ensure_ring
from conftest import topology

NOW = 1_800_000_000


def test_ensure_ring_writes_then_stays_put(tmp_path):
    devs = topology(zones=3, servers=1, disks=2)
    first = ensure_ring(str(tmp_path / "rings"), "account", devs, part_power=8, now=NOW)
    assert first["changed"] and first["rebalanced"] and first["moved"] == 768
    builder = tmp_path / "rings" / "account.builder.json"
    ring_file = tmp_path / "rings" / "account.ring.gz"
    assert json.loads(builder.read_text())["version"] == 1
    again = ensure_ring(str(tmp_path / "rings"), "account", devs, part_power=8, now=NOW + 99 * 3600)
    assert not again["changed"] and again["moved"] == 0
    # a lost ring file is written again from the kept state, without a rebalance
    ring_file.unlink()
    restored = ensure_ring(str(tmp_path / "rings"), "account", devs, part_power=8, now=NOW)
    assert restored["changed"] and not restored["rebalanced"]
    assert R.read_ring_gz(str(ring_file))["version"] == 1


def test_ensure_ring_check_mode_writes_nothing(tmp_path):
    result = ensure_ring(str(tmp_path / "new"), "object", topology(), part_power=8, check_mode=True)
    assert result["changed"] and result["moved"] == 768
    assert not (tmp_path / "new").exists()


def test_min_part_hours_only_changes_the_state_not_the_ring(tmp_path):
    devs = topology()
    ensure_ring(str(tmp_path), "object", devs, part_power=8, now=NOW)
    result = ensure_ring(str(tmp_path), "object", devs, part_power=8, min_part_hours=24, now=NOW)
    assert result["changed"] and not result["rebalanced"]
    assert json.loads((tmp_path / "object.builder.json").read_text())["min_part_hours"] == 24


def test_held_back_rebalance_finishes_once_the_hours_pass(tmp_path):
    devs = topology(zones=4, servers=1, disks=2)
    ensure_ring(str(tmp_path), "object", devs, part_power=8, min_part_hours=2, now=NOW)
    more = [*devs, {"region": 1, "zone": 4, "ip": "10.1.4.9", "port": 6200, "device": "sdb", "weight": 100}]
    held = ensure_ring(str(tmp_path), "object", more, part_power=8, min_part_hours=2, now=NOW + 3600)
    assert held["changed"] and held["pending"] and held["moved"] == 0
    quiet = ensure_ring(str(tmp_path), "object", more, part_power=8, min_part_hours=2, now=NOW + 3600)
    assert not quiet["changed"]
    done = ensure_ring(str(tmp_path), "object", more, part_power=8, min_part_hours=2, now=NOW + 3 * 3600)
    assert done["changed"] and done["moved"] > 0 and not done["pending"]


def test_ensure_ring_errors(tmp_path):
    with pytest.raises(R.RingError, match="ring must be one of account, container, object or object-<policy index>"):
        ensure_ring(str(tmp_path), "objects", topology())
    for bad in ("object-0", "object-x", "container-1"):
        with pytest.raises(R.RingError, match="object-<policy index>"):
            ensure_ring(str(tmp_path), bad, topology())
    with pytest.raises(R.RingError, match="ec_num_data_fragments and ec_num_parity_fragments go together"):
        ensure_ring(str(tmp_path), "object-1", topology(), ec_num_data_fragments=4)
    with pytest.raises(R.RingError, match=r"replicas \(3\) contradicts the erasure coding 4\+2"):
        ensure_ring(str(tmp_path), "object-1", topology(), replicas=3, ec_num_data_fragments=4,
                    ec_num_parity_fragments=2)
    with pytest.raises(R.RingError, match="applies to an object ring"):
        ensure_ring(str(tmp_path), "account", topology(), ec_num_data_fragments=4, ec_num_parity_fragments=2)
    with pytest.raises(R.RingError, match="Replica count of 6 requires more than 4 devices"):
        ensure_ring(str(tmp_path), "object-2", topology(zones=2, servers=1), ec_num_data_fragments=4,
                    ec_num_parity_fragments=2)
    (tmp_path / "object.builder.json").write_text("{not json")
    with pytest.raises(R.RingError, match=r"object\.builder\.json: cannot read the ring builder state"):
        ensure_ring(str(tmp_path), "object", topology())
    (tmp_path / "afile").write_text("")
    with pytest.raises(R.RingError, match="is not a directory"):
        ensure_ring(str(tmp_path / "afile"), "object", topology())


def test_policy_rings_replicated_and_erasure_coded(tmp_path):
    devs = topology(zones=3, servers=1, disks=2)  # the lab: three hosts in three zones, two devices each
    two = ensure_ring(str(tmp_path), "object-1", devs, part_power=8, replicas=2, now=NOW)
    assert two["replicas"] == 2 and two["ring_file"].endswith("object-1.ring.gz")
    ec = ensure_ring(str(tmp_path), "object-2", devs, part_power=8, ec_num_data_fragments=4,
                     ec_num_parity_fragments=2, now=NOW)
    assert ec["changed"] and ec["replicas"] == 6 and ec["dispersion"] == 0.0
    state = json.loads((tmp_path / "object-2.builder.json").read_text())
    for row in zip(*R.decoded_rows(state)):  # every partition: six fragments on six different devices
        assert len(set(row)) == 6
    again = ensure_ring(str(tmp_path), "object-2", devs, part_power=8, ec_num_data_fragments=4,
                        ec_num_parity_fragments=2, now=NOW)
    assert not again["changed"]


def test_filters_round_trip_and_fail_with_the_message():
    state = ring_filters.ring_rebalance(None, topology(zones=4), part_power=10, seed=1)
    assert state["dispersion"] == 0.0
    assert ring_filters.ring_partition(state, "AUTH_test", "c", "o", "changeme", "changeme") == 312
    nodes = ring_filters.ring_nodes(state, "AUTH_test", "c", "o", "changeme", "changeme", handoffs=2)
    assert [n.get("index") for n in nodes] == [0, 1, 2, None, None]
    assert [n.get("handoff_index") for n in nodes[3:]] == [0, 1]
    with pytest.raises(AnsibleFilterError, match="missing required field 'weight'"):
        ring_filters.ring_rebalance(None, [{"zone": 1, "ip": "1.2.3.4", "port": 1, "device": "a"}])
    with pytest.raises(AnsibleFilterError, match="ring must be a ring as returned by"):
        ring_filters.ring_partition({"part_power": 10}, "AUTH_test")
    with pytest.raises(AnsibleFilterError, match="handoffs must be an integer >= 0"):
        ring_filters.ring_nodes(state, "AUTH_test", handoffs=-1)
