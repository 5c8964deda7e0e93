"""Weighers: Nova's normalisation, multipliers and aggregate overrides (nova/weights.py, scheduler/weights)."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import normalize
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.host_state import build_host_states
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.request import RequestSpec
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.scheduler import build_config
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.weighers import WEIGHERS, weigh
from sched_helpers import chosen, flavor, host


def weights(hosts, names, config=None, aggregates=None, server_group=None):
    """Total weight per host name with only the named weighers."""
    cfg = build_config(config)
    request = RequestSpec(flavor(), server_group=server_group)
    states = build_host_states(hosts, aggregates, cfg)
    request.hosts_in_aggregates = [s for s in states if s.aggregates]
    if request.group_policy:
        request.group_members.add(("new-instance", 0))
    weighers = [w for w in (WEIGHERS[n](cfg) for n in names) if w.prepare(request, states)]
    return {s.name: pytest.approx(t) for s, t in zip(states, weigh(states, weighers, request))}


def test_normalize():
    assert normalize([]) == []
    assert list(normalize([1, 2, 3])) == [0.0, 0.5, 1.0]
    assert list(normalize([5, 5, 5])) == [0, 0, 0]
    assert list(normalize([1, 2, 3], minval=0)) == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert list(normalize([1, 2, 3], maxval=4)) == pytest.approx([0, 1 / 3, 2 / 3])
    assert list(normalize([2, 2], minval=0)) == [1.0, 1.0]


def test_ram_weigher_normalises_from_zero_and_spreads():
    hosts = [host("a", memory_mb=2560), host("b", memory_mb=4608), host("c", memory_mb=512)]  # 2048/4096/0 free
    assert weights(hosts, ["RAMWeigher"]) == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert weights(hosts, ["RAMWeigher"], {"ram_weight_multiplier": -1.0}) == {"a": -0.5, "b": -1.0, "c": 0.0}
    assert chosen(hosts) == ["b"]
    # Negative multiplier stacks: the fullest host that still fits wins.
    assert chosen(hosts, config={"ram_weight_multiplier": -1.0}) == ["a"]


def test_ram_weigher_clamps_negative_free_ram_to_zero():
    hosts = [host("a", memory_mb=1024, memory_mb_used=1024), host("b", memory_mb=1536)]  # -512 and 1024 free
    assert weights(hosts, ["RAMWeigher"]) == {"a": 0.0, "b": 1.0}


def test_cpu_weigher_uses_allocation_ratio():
    hosts = [host("a", vcpus=4, vcpus_used=8), host("b", vcpus=4, vcpus_used=0, cpu_allocation_ratio=1.0)]
    # a: 4*4.0 - 8 = 8 free; b: 4*1.0 - 0 = 4 free
    assert weights(hosts, ["CPUWeigher"]) == {"a": 1.0, "b": 0.5}
    assert weights(hosts, ["CPUWeigher"], {"cpu_weight_multiplier": 2.0}) == {"a": 2.0, "b": 1.0}


def test_disk_weigher():
    hosts = [host("a", local_gb=100, local_gb_used=75), host("b", local_gb=100)]
    assert weights(hosts, ["DiskWeigher"]) == {"a": 0.25, "b": 1.0}


def test_io_ops_weigher_prefers_idle_hosts_by_default():
    hosts = [host("a", num_io_ops=4), host("b", num_io_ops=2), host("c")]
    assert weights(hosts, ["IoOpsWeigher"]) == {"a": -1.0, "b": -0.5, "c": 0.0}


def test_num_instances_weigher_is_off_by_default_and_has_no_minval():
    hosts = [host("a", running_vms=10), host("b", running_vms=20), host("c", running_vms=30)]
    assert weights(hosts, ["NumInstancesWeigher"]) == {"a": 0.0, "b": 0.0, "c": 0.0}
    assert weights(hosts, ["NumInstancesWeigher"], {"num_instances_weight_multiplier": -1.0}) == {
        "a": 0.0, "b": -0.5, "c": -1.0}


def test_soft_affinity_weighers():
    hosts = [host("a", instances=["m1", "m2"]), host("b", instances=["m3"]), host("c", instances=["x"])]
    affinity = {"policy": "soft-affinity", "members": ["m1", "m2", "m3"]}
    assert weights(hosts, ["ServerGroupSoftAffinityWeigher"], server_group=affinity) == {"a": 1.0, "b": 0.5, "c": 0.0}
    anti = {"policy": "soft-anti-affinity", "members": ["m1", "m2", "m3"]}
    # raw -2, -1, 0 normalised over the list: 0, 0.5, 1
    assert weights(hosts, ["ServerGroupSoftAntiAffinityWeigher"], server_group=anti) == {"a": 0.0, "b": 0.5, "c": 1.0}
    assert weights(hosts, ["ServerGroupSoftAntiAffinityWeigher"], server_group=affinity) == {
        "a": 0.0, "b": 0.0, "c": 0.0}
    assert weights(hosts, ["ServerGroupSoftAntiAffinityWeigher"], {"soft_anti_affinity_weight_multiplier": 3.0},
                   server_group=anti) == {"a": 0.0, "b": 1.5, "c": 3.0}


def test_soft_anti_affinity_spreads_a_request_but_allows_sharing():
    hosts = [host("a"), host("b")]
    result = chosen(hosts, server_group={"policy": "soft-anti-affinity", "members": []}, num_instances=3)
    assert sorted(result[:2]) == ["a", "b"] and len(result) == 3


def test_build_failure_weigher_sinks_failing_hosts():
    hosts = [host("a", failed_builds=2), host("b", failed_builds=1), host("c")]
    assert weights(hosts, ["BuildFailureWeigher"]) == {"a": -1000000.0, "b": -500000.0, "c": 0.0}
    assert chosen([host("a", memory_mb=65536, failed_builds=1), host("b")]) == ["b"]


def test_aggregate_metadata_overrides_multiplier_minimum_wins():
    hosts = [host("a", memory_mb=2560), host("b", memory_mb=4608), host("c", memory_mb=4608)]
    aggregates = [
        {"name": "x", "metadata": {"ram_weight_multiplier": "2.0"}, "hosts": ["a", "b"]},
        {"name": "y", "metadata": {"ram_weight_multiplier": "0.5"}, "hosts": ["b"]},
        {"name": "z", "metadata": {"ram_weight_multiplier": "bogus"}, "hosts": ["c"]},
    ]
    # a: 2.0 * 0.5; b: min(2.0, 0.5) * 1.0; c: unparsable, so the configured 1.0.
    assert weights(hosts, ["RAMWeigher"], aggregates=aggregates) == {"a": 1.0, "b": 0.5, "c": 1.0}


def test_aggregate_override_of_a_zero_multiplier_turns_the_weigher_on():
    hosts = [host("a", running_vms=1), host("b", running_vms=3)]
    aggregates = [{"name": "x", "metadata": {"num_instances_weight_multiplier": "-4"}, "hosts": ["b"]}]
    assert weights(hosts, ["NumInstancesWeigher"], aggregates=aggregates) == {"a": 0.0, "b": -4.0}


def test_build_failure_override_is_negated_too():
    hosts = [host("a", failed_builds=1), host("b")]
    aggregates = [{"name": "x", "metadata": {"build_failure_weight_multiplier": "10"}, "hosts": ["a"]}]
    assert weights(hosts, ["BuildFailureWeigher"], aggregates=aggregates) == {"a": -10.0, "b": 0.0}


def test_a_single_host_is_not_weighed():
    assert weights([host("a", failed_builds=3)], ["BuildFailureWeigher", "RAMWeigher"]) == {"a": 0.0}


def test_weighers_add_up():
    hosts = [host("a", memory_mb=4608, num_io_ops=2), host("b", memory_mb=2560, num_io_ops=0)]
    # RAM: a 1.0, b 0.5; IoOps: a -1.0, b 0.
    assert weights(hosts, ["RAMWeigher", "IoOpsWeigher"]) == {"a": 0.0, "b": 0.5}
    assert chosen(hosts, config={"weight_classes": ["RAMWeigher", "IoOpsWeigher"]}) == ["b"]
    assert chosen(hosts, config={"weight_classes": ["RAMWeigher"]}) == ["a"]
