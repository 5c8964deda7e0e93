# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark scenarios shared by bench_ministack.py and bench_nova.py (plain Python, no imports beyond stdlib).

Host states are generated from a seed, so both sides see the same input.  Hosts are
named in sorted order (cmp00000, cmp00001, ...): Nova's stable sort keeps input order on
ties and ministack breaks ties by name, so the two agree on ties too.
"""

from __future__ import annotations

import json
import random

INITIAL_RATIOS = {"cpu": 4.0, "ram": 1.0, "disk": 1.0}
RESERVED_MEMORY_MB = 512


def generate_hosts(count, seed=1, with_capabilities=False):
    rng = random.Random(seed)
    hosts = []
    for i in range(count):
        vcpus = rng.choice([16, 32, 48, 64])
        memory = rng.choice([65536, 131072, 262144])
        disk = rng.choice([500, 1000, 2000])
        running = rng.randint(0, 30)
        host = {
            "name": f"cmp{i:05d}",
            "enabled": rng.random() > 0.02,
            "up": rng.random() > 0.02,
            "vcpus": vcpus,
            "vcpus_used": rng.randint(0, vcpus * 2),
            "memory_mb": memory,
            "memory_mb_used": rng.randint(0, memory // 2),
            "local_gb": disk,
            "local_gb_used": rng.randint(0, disk // 2),
            "running_vms": running,
            "num_io_ops": rng.randint(0, 6),
            "failed_builds": 1 if rng.random() < 0.01 else 0,
            "hypervisor_type": "QEMU",
            "hypervisor_version": 8002000,
            "capabilities": {},
            "instances": [f"srv-{i}-{k}" for k in range(min(running, 3))],
        }
        if with_capabilities:
            host["capabilities"] = {"gpus": str(rng.randint(0, 2))}
            host["cpu_info"] = json.dumps({"arch": "x86_64", "vendor": "AMD",
                                           "features": ["avx", "sse4.2"] + (["avx512f"] if i % 3 == 0 else [])})
        hosts.append(host)
    return hosts


def scenarios():
    """name -> dict(hosts, kwargs, timed, repeat)."""
    result = {}
    flavor = {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40, "ephemeral": 0, "swap": 0, "extra_specs": {}}
    result["10k hosts, 1 instance"] = {
        "hosts": generate_hosts(10000, seed=1), "kwargs": {"flavor": flavor}, "repeat": 15,
        "target_ms": 50}
    small = {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20, "ephemeral": 0, "swap": 0, "extra_specs": {}}
    result["1k hosts, 1000 instances"] = {
        "hosts": generate_hosts(1000, seed=2), "kwargs": {"flavor": small, "num_instances": 1000}, "repeat": 3,
        "target_ms": 2000}
    # Smaller scenarios exercise more filters and weighers; they check agreement, timings are informative.
    hosts = generate_hosts(300, seed=3, with_capabilities=True)
    members = [hosts[5]["instances"][0], hosts[9]["instances"][0]] if hosts[5]["instances"] and hosts[9][
        "instances"] else []
    result["300 hosts, specs + image + anti-affinity x20"] = {
        "hosts": hosts,
        "kwargs": {
            "flavor": {**flavor, "extra_specs": {"capabilities:cpu_info:features": "<in> avx512f",
                                                 "gpus": ">= 1"}},
            "image": {"properties": {"hw_architecture": "x86_64", "img_hv_type": "qemu", "hw_vm_mode": "hvm"}},
            "server_group": {"policy": "anti-affinity", "members": members},
            "num_instances": 20,
        },
        "repeat": 5, "target_ms": None}
    hosts = generate_hosts(300, seed=4)
    aggregates = [
        {"name": "ssd", "metadata": {"ssd": "true", "ram_weight_multiplier": "2.0"},
         "hosts": [h["name"] for h in hosts[:150]]},
        {"name": "tenant-a", "metadata": {"filter_tenant_id": "proj-a", "ram_weight_multiplier": "0.5"},
         "hosts": [h["name"] for h in hosts[100:200]]},
        {"name": "busy", "metadata": {"io_ops_weight_multiplier": "-4.0"}, "hosts": [h["name"] for h in hosts[::7]]},
    ]
    result["300 hosts, aggregates + multiplier overrides x10"] = {
        "hosts": hosts,
        "kwargs": {
            "flavor": {**flavor, "extra_specs": {"aggregate_instance_extra_specs:ssd": "true"}},
            "aggregates": aggregates, "project_id": "proj-a", "num_instances": 10,
            "config": {"enabled_filters": ["ComputeFilter", "AggregateInstanceExtraSpecsFilter",
                                           "AggregateMultiTenancyIsolation", "NumInstancesFilter", "IoOpsFilter"],
                       "num_instances_weight_multiplier": -1.0},
        },
        "repeat": 5, "target_ms": None}
    result["300 hosts, soft-affinity x10"] = {
        "hosts": generate_hosts(300, seed=5),
        "kwargs": {"flavor": small, "server_group": {"policy": "soft-affinity", "members": ["srv-7-0"]},
                   "num_instances": 10},
        "repeat": 5, "target_ms": None}
    return result


# The weighers both sides run (Nova's all_weighers also has PCI, CrossCell, HypervisorVersion,
# ImageProperties and Metrics weighers, which add 0 for these host states or are not implemented here).
WEIGHERS = ["RAMWeigher", "CPUWeigher", "DiskWeigher", "IoOpsWeigher", "NumInstancesWeigher",
            "ServerGroupSoftAffinityWeigher", "ServerGroupSoftAntiAffinityWeigher", "BuildFailureWeigher"]
DEFAULT_FILTERS = ["ComputeFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter",
                   "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter"]
