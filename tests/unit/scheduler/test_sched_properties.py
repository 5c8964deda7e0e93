"""Property-based checks (hypothesis): invariants that hold for any hosts and request."""

from __future__ import annotations

import collections
import math

from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import NoValidHost, select_hosts
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.host_state import build_host_states
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.request import RequestSpec
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler.scheduler import (
    _make_filters,
    build_config,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

SERVERS = [f"vm{i}" for i in range(6)]
FILTER_NAMES = [
    "ComputeFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter", "AggregateInstanceExtraSpecsFilter", "AggregateMultiTenancyIsolation",
    "SameHostFilter", "DifferentHostFilter", "NumInstancesFilter", "IoOpsFilter",
]


@st.composite
def host_lists(draw):
    count = draw(st.integers(1, 10))
    hosts = []
    for i in range(count):
        vcpus = draw(st.integers(1, 32))
        memory = draw(st.integers(512, 16384))
        disk = draw(st.integers(1, 200))
        hosts.append({
            "name": f"h{i:02d}",
            "enabled": draw(st.booleans()) or draw(st.booleans()),
            "up": draw(st.booleans()) or draw(st.booleans()),
            "vcpus": vcpus,
            "vcpus_used": draw(st.integers(0, vcpus * 4)),
            "memory_mb": memory,
            "memory_mb_used": draw(st.integers(0, memory)),
            "local_gb": disk,
            "local_gb_used": draw(st.integers(0, disk)),
            "running_vms": draw(st.integers(0, 55)),
            "num_io_ops": draw(st.integers(0, 10)),
            "failed_builds": draw(st.integers(0, 2)),
            "hypervisor_type": draw(st.sampled_from(["QEMU", "Xen"])),
            "capabilities": {"gpu": str(draw(st.integers(0, 3)))},
            "instances": draw(st.lists(st.sampled_from(SERVERS), unique=True, max_size=3)),
            "ram_allocation_ratio": draw(st.sampled_from([None, 1.0, 1.5])),
        })
    return hosts


@st.composite
def requests(draw, hosts):
    names = [h["name"] for h in hosts]
    aggregates = []
    for zone in ("az1", "az2"):
        members = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        aggregates.append({"name": zone, "availability_zone": zone, "hosts": members,
                           "metadata": {"ssd": draw(st.sampled_from(["true", "false"])),
                                        **({"filter_tenant_id": "p1"} if draw(st.booleans()) else {})}})
    extra_specs = draw(st.dictionaries(
        st.sampled_from(["capabilities:gpu", "aggregate_instance_extra_specs:ssd", "hypervisor_type", "hw:x"]),
        st.sampled_from([">= 1", "= 2", "s== true", "true", "QEMU", "<or> QEMU <or> Xen", "s!= 0"]), max_size=2))
    kwargs = {
        "flavor": {"vcpus": draw(st.integers(1, 8)), "ram": draw(st.integers(128, 4096)),
                   "disk": draw(st.integers(0, 40)), "ephemeral": draw(st.integers(0, 5)),
                   "swap": draw(st.sampled_from([0, 512, 2048])), "extra_specs": extra_specs},
        "availability_zone": draw(st.sampled_from([None, "az1", "az2", "nova"])),
        "aggregates": aggregates,
        "project_id": draw(st.sampled_from([None, "p1", "p2"])),
        "image": draw(st.sampled_from([None, {"properties": {"hw_architecture": "x86_64"}},
                                       {"properties": {"img_hv_type": "xen"}}])),
        "scheduler_hints": draw(st.sampled_from([None, {"same_host": ["vm1", "vm2"]}, {"different_host": ["vm0"]}])),
        "server_group": draw(st.sampled_from([
            None,
            {"policy": "anti-affinity", "members": ["vm1", "vm3"]},
            {"policy": "anti-affinity", "members": [], "rules": {"max_server_per_host": 2}},
            {"policy": "affinity", "members": ["vm2"]},
            {"policy": "soft-anti-affinity", "members": ["vm4"]},
            {"policy": "soft-affinity", "members": ["vm5"]},
        ])),
        "config": {
            "enabled_filters": draw(st.lists(st.sampled_from(FILTER_NAMES), unique=True)),
            "host_subset_size": draw(st.integers(1, 3)),
            "max_attempts": draw(st.integers(1, 4)),
            "random_seed": draw(st.integers(0, 1000)),
        },
    }
    return kwargs


def verdicts(hosts, kwargs):
    """Host name -> list of filters (with placement's checks) that reject it, on the untouched input."""
    config = build_config(kwargs["config"])
    request = RequestSpec(kwargs["flavor"], kwargs["image"], kwargs["availability_zone"],
                          kwargs["scheduler_hints"], kwargs["server_group"], kwargs["project_id"])
    states = build_host_states(hosts, kwargs["aggregates"], config)
    request.hosts_in_aggregates = [s for s in states if s.aggregates]
    if request.group_policy:
        request.group_members.add(("new-instance", 0))
        request.group_hosts.update(s.name for s in states if not s.instances.isdisjoint(request.group_members))
    request.instance_id = ("new-instance", 0)
    filters = [f for f in _make_filters(config, request) if f.prepare(request, states)]
    return {s.name: [f.name for f in filters if not f.host_passes(s, request)] for s in states}


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_never_returns_a_host_a_filter_rejects_and_fails_only_when_none_fits(data):
    hosts = data.draw(host_lists())
    kwargs = data.draw(requests(hosts))
    rejected = verdicts(hosts, kwargs)
    fitting = {name for name, failed in rejected.items() if not failed}
    try:
        result = select_hosts(hosts, **kwargs)
    except NoValidHost as exc:
        event("no valid host")
        assert not fitting, f"{fitting} fit but got {exc}"
        assert str(exc).startswith("No valid host was found.")
        return
    event("placed")
    assert len(result) == 1
    picked = [result[0]["host"], *result[0]["alternates"]]
    assert set(picked) <= fitting, {name: rejected[name] for name in picked}
    assert len(set(picked)) == len(picked)
    assert len(result[0]["alternates"]) == min(kwargs["config"]["max_attempts"] - 1, len(fitting) - 1)


@SETTINGS
@given(st.data())
def test_a_multi_instance_request_never_overcommits(data):
    hosts = data.draw(host_lists())
    kwargs = data.draw(requests(hosts))
    count = data.draw(st.integers(2, 12))
    try:
        result = select_hosts(hosts, num_instances=count, **kwargs)
    except NoValidHost:
        event("no valid host")
        return
    event("placed")
    assert len(result) == count
    fl = kwargs["flavor"]
    disk = fl["disk"] + fl["ephemeral"] + math.ceil(fl["swap"] / 1024)
    placed = collections.Counter(entry["host"] for entry in result)
    by_name = {h["name"]: h for h in hosts}
    for name, n in placed.items():
        h = by_name[name]
        ram_ratio = h["ram_allocation_ratio"] or 1.0
        assert h["memory_mb_used"] + n * fl["ram"] <= (h["memory_mb"] - 512) * ram_ratio
        assert h["vcpus_used"] + n * fl["vcpus"] <= h["vcpus"] * 4.0
        assert h["local_gb_used"] + n * disk <= h["local_gb"]
    group = kwargs["server_group"]
    enabled = kwargs["config"]["enabled_filters"]
    if group and group["policy"] == "anti-affinity" and "ServerGroupAntiAffinityFilter" in enabled:
        limit = int((group.get("rules") or {}).get("max_server_per_host", 1))
        for name, n in placed.items():
            existing = len(set(by_name[name]["instances"]) & set(group["members"]))
            assert existing + n <= limit
    if group and group["policy"] == "affinity" and "ServerGroupAffinityFilter" in enabled:
        assert len(placed) == 1
    if "NumInstancesFilter" in enabled:
        assert all(by_name[name]["running_vms"] + n <= 50 for name, n in placed.items())
    selected = set(placed)
    for entry in result:
        assert not selected & set(entry["alternates"])


@SETTINGS
@given(st.data())
def test_deterministic_with_host_subset_size_one(data):
    hosts = data.draw(host_lists())
    kwargs = data.draw(requests(hosts))
    kwargs["config"] = {**kwargs["config"], "host_subset_size": 1, "random_seed": None}
    count = data.draw(st.integers(1, 4))
    shuffled = data.draw(st.permutations(hosts))

    def outcome(host_list):
        try:
            return select_hosts(host_list, num_instances=count, **kwargs)
        except NoValidHost as exc:
            return str(exc)

    first = outcome(hosts)
    assert outcome(hosts) == first
    if not isinstance(first, str):
        assert outcome(list(shuffled)) == first
