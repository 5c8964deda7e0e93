"""Each filter, from Nova's documented behaviour (nova/scheduler/filters/*)."""

from __future__ import annotations

import json

import pytest
from sched_helpers import chosen, failure, flavor, host, only, passing

# ---------------------------------------------------------------- ComputeFilter


def test_compute_filter_removes_disabled_and_down_hosts():
    hosts = [host("cmp1"), host("cmp2", enabled=False), host("cmp3", up=False)]
    assert passing(hosts, config=only("ComputeFilter")) == {"cmp1"}


def test_compute_filter_reads_nova_status_and_state_strings():
    hosts = [host("cmp1"), host("cmp2", status="disabled"), host("cmp3", state="down")]
    for h in hosts[1:]:
        h.pop("enabled")
        h.pop("up")
    assert passing(hosts, config=only("ComputeFilter")) == {"cmp1"}


def test_compute_filter_reasons_in_message():
    message = failure([host("cmp1", enabled=False), host("cmp2", up=False)], config=only("ComputeFilter"))
    assert "ComputeFilter removed 2 hosts: cmp1 (compute service is disabled), cmp2 (compute service is down)" in message


def test_disabled_host_passes_when_compute_filter_not_enabled():
    assert passing([host("cmp1", enabled=False)], config=only()) == {"cmp1"}


# ---------------------------------------------------------------- AvailabilityZoneFilter

AGGREGATES = [
    {"name": "rack1", "availability_zone": "az1", "metadata": {}, "hosts": ["cmp1"]},
    {"name": "rack2", "metadata": {"availability_zone": "az2"}, "hosts": ["cmp2"]},
]


def test_az_is_enforced_even_when_not_in_enabled_filters():
    hosts = [host("cmp1"), host("cmp2"), host("cmp3")]
    assert passing(hosts, availability_zone="az1", aggregates=AGGREGATES, config=only()) == {"cmp1"}
    assert passing(hosts, availability_zone="az2", aggregates=AGGREGATES, config=only()) == {"cmp2"}


def test_host_in_no_az_aggregate_is_in_the_default_zone():
    hosts = [host("cmp1"), host("cmp2"), host("cmp3")]
    assert passing(hosts, availability_zone="nova", aggregates=AGGREGATES) == {"cmp3"}
    assert passing(hosts, availability_zone="zz", aggregates=AGGREGATES,
                   config={"default_availability_zone": "zz"}) == {"cmp3"}


def test_host_level_availability_zone_when_no_aggregate_says():
    # The catalog's host states carry availability_zone; aggregates, when given, take precedence.
    hosts = [host("cmp1", availability_zone="az9"), host("cmp2"), host("cmp3", availability_zone="az9")]
    assert passing(hosts, availability_zone="az9") == {"cmp1", "cmp3"}
    assert passing(hosts, availability_zone="az1", aggregates=AGGREGATES) == {"cmp1"}


def test_no_az_asked_means_every_zone():
    hosts = [host("cmp1"), host("cmp2"), host("cmp3")]
    assert passing(hosts, aggregates=AGGREGATES) == {"cmp1", "cmp2", "cmp3"}


def test_az_reason():
    message = failure([host("cmp2")], availability_zone="az1", aggregates=AGGREGATES)
    assert "AvailabilityZoneFilter removed cmp2 (in availability zone az2, not az1)" in message


def test_host_in_aggregate_without_az_metadata_is_in_default_zone():
    aggregates = [{"name": "ssd", "metadata": {"ssd": "true"}, "hosts": ["cmp1"]}]
    assert passing([host("cmp1")], availability_zone="nova", aggregates=aggregates) == {"cmp1"}


# ---------------------------------------------------------------- capacity (placement)


def test_ram_capacity_subtracts_reserved_and_applies_ratio():
    # 4096 total - 512 reserved = 3584 usable; 2048 used leaves 1536.
    hosts = [host("cmp1", memory_mb=4096, memory_mb_used=1536), host("cmp2", memory_mb=4096, memory_mb_used=2048)]
    fl = flavor(ram=2048)
    assert passing(hosts, fl, config=only()) == {"cmp1"}  # 1536 + 2048 = 3584: exactly full passes
    message = failure([hosts[1]], fl, config=only())
    assert message.startswith("No valid host was found.")
    assert "RamFilter removed cmp2 (needs 2048 MB, 1536 MB free)" in message


def test_ram_allocation_ratio_overcommits():
    hosts = [host("cmp1", memory_mb=4096, memory_mb_used=3000, ram_allocation_ratio=1.5)]
    # (4096 - 512) * 1.5 = 5376 >= 3000 + 2048
    assert passing(hosts, flavor(ram=2048), config=only()) == {"cmp1"}
    assert passing(hosts, flavor(ram=2048), config={"ram_allocation_ratio": 1.0, "enabled_filters": []}) == {"cmp1"}
    hosts[0].pop("ram_allocation_ratio")
    assert passing(hosts, flavor(ram=2048), config={"ram_allocation_ratio": 1.5, "enabled_filters": []}) == {"cmp1"}
    assert passing(hosts, flavor(ram=2048), config=only()) == set()


def test_reserved_memory_per_host_and_from_config():
    hosts = [host("cmp1", memory_mb=2048, memory_mb_used=0, reserved_host_memory_mb=0)]
    assert passing(hosts, flavor(ram=2048), config=only()) == {"cmp1"}
    hosts[0].pop("reserved_host_memory_mb")
    assert passing(hosts, flavor(ram=2048), config=only()) == set()
    assert passing(hosts, flavor(ram=2048), config=only(reserved_host_memory_mb=0)) == {"cmp1"}


def test_request_bigger_than_host_fails_whatever_the_ratio():
    hosts = [host("cmp1", vcpus=2, cpu_allocation_ratio=16.0)]
    message = failure(hosts, flavor(vcpus=4), config=only())
    assert "CoreFilter removed cmp1 (needs 4 vCPUs, host has 2 vCPUs in all)" in message


def test_cpu_allocation_ratio_defaults_to_initial_4():
    hosts = [host("cmp1", vcpus=4, vcpus_used=15), host("cmp2", vcpus=4, vcpus_used=14)]
    assert passing(hosts, flavor(vcpus=2), config=only()) == {"cmp2"}
    assert passing(hosts, flavor(vcpus=2), config=only(initial_cpu_allocation_ratio=16.0)) == {"cmp1", "cmp2"}
    assert passing(hosts, flavor(vcpus=2), config=only(reserved_host_cpus=1)) == set()


def test_disk_counts_root_ephemeral_and_swap_rounded_up():
    hosts = [host("cmp1", local_gb=20, local_gb_used=7)]  # 13 GB free
    assert passing(hosts, flavor(disk=10, ephemeral=2, swap=1024), config=only()) == {"cmp1"}
    assert passing(hosts, flavor(disk=10, ephemeral=2, swap=1025), config=only()) == set()
    assert "DiskFilter removed cmp1 (needs 14 GB, 13 GB free)" in failure(
        hosts, flavor(disk=10, ephemeral=2, swap=1025), config=only())


def test_disk_allocation_ratio_and_reserved_disk():
    hosts = [host("cmp1", local_gb=10, local_gb_used=10, disk_allocation_ratio=2.0)]
    assert passing(hosts, flavor(disk=10), config=only()) == {"cmp1"}
    assert passing(hosts, flavor(disk=10), config=only(reserved_host_disk_mb=1)) == set()  # reserves 1 GB


def test_capacity_is_enforced_whatever_enabled_filters_says():
    hosts = [host("cmp1", memory_mb=1024)]
    assert passing(hosts, flavor(ram=2048), config={"enabled_filters": ["AllHostsFilter"]}) == set()


def test_capacity_is_consumed_between_instances():
    hosts = [host("cmp1", memory_mb=2560), host("cmp2", memory_mb=2560)]  # room for one 2048 MB each
    assert sorted(chosen(hosts, flavor(ram=2048), num_instances=2)) == ["cmp1", "cmp2"]
    message = failure(hosts, flavor(ram=2048), num_instances=3)
    assert "There are not enough hosts available: placed 2 of 3 instances" in message
    assert "RamFilter removed 2 hosts: cmp1 (needs 2048 MB, 0 MB free), cmp2 (needs 2048 MB, 0 MB free)" in message


# ---------------------------------------------------------------- AggregateInstanceExtraSpecsFilter

SSD = [
    {"name": "fast", "metadata": {"ssd": "true", "tier": "gold,silver", "cores": "8"}, "hosts": ["cmp1"]},
    {"name": "slow", "metadata": {"ssd": "false", "tier": "bronze", "cores": "2"}, "hosts": ["cmp2"]},
    {"name": "extra", "metadata": {"tier": "platinum"}, "hosts": ["cmp1"]},
]
AIES = only("AggregateInstanceExtraSpecsFilter")
HOSTS3 = [host("cmp1"), host("cmp2"), host("cmp3")]


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        ({}, {"cmp1", "cmp2", "cmp3"}),
        ({"ssd": "true"}, {"cmp1"}),
        ({"aggregate_instance_extra_specs:ssd": "true"}, {"cmp1"}),
        ({"aggregate_instance_extra_specs:ssd": "false"}, {"cmp2"}),
        # Other scopes are not this filter's business.
        ({"hw:cpu_policy": "dedicated", "capabilities:foo": "bar", "quota:cpu_shares": "10"}, {"cmp1", "cmp2", "cmp3"}),
        # Values are comma-split and unioned over the host's aggregates.
        ({"tier": "silver"}, {"cmp1"}),
        ({"tier": "platinum"}, {"cmp1"}),
        ({"tier": "<or> bronze <or> gold"}, {"cmp1", "cmp2"}),
        ({"aggregate_instance_extra_specs:cores": ">= 4"}, {"cmp1"}),
        ({"aggregate_instance_extra_specs:cores": "<= 4"}, {"cmp2"}),
        ({"aggregate_instance_extra_specs:tier": "s!= bronze"}, {"cmp1"}),
        ({"ssd": "true", "tier": "bronze"}, set()),
    ],
)
def test_aggregate_instance_extra_specs(specs, expected):
    assert passing(HOSTS3, flavor(extra_specs=specs), aggregates=SSD, config=AIES) == expected


def test_aggregate_instance_extra_specs_reasons():
    message = failure(HOSTS3, flavor(extra_specs={"ssd": "true", "tier": "bronze"}), aggregates=SSD,
                      config=only("AggregateInstanceExtraSpecsFilter"))
    assert "AggregateInstanceExtraSpecsFilter removed 3 hosts:" in message
    assert "cmp1 (aggregate metadata tier=gold,platinum,silver does not satisfy 'bronze')" in message
    assert "cmp2 (aggregate metadata ssd=false does not satisfy 'true')" in message
    assert "cmp3 (no aggregate of the host sets ssd (flavor asks 'true'))" in message


# ---------------------------------------------------------------- ComputeCapabilitiesFilter

CPU_INFO = {"arch": "x86_64", "vendor": "AMD", "features": ["avx", "avx2", "sse4.2"],
            "topology": {"cores": 8}, "maxphysaddr": {"bits": 48}}
CAP_HOSTS = [
    host("cmp1", hypervisor_type="QEMU", cpu_info=json.dumps(CPU_INFO), capabilities={"gpus": "2", "numa": "yes"}),
    host("cmp2", hypervisor_type="Xen", capabilities={"gpus": "0",
                                                      "cpu_info": {"arch": "aarch64", "features": ["neon"]}}),
]
CCF = only("ComputeCapabilitiesFilter")


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        ({"capabilities:hypervisor_type": "s== QEMU"}, {"cmp1"}),
        ({"capabilities:hypervisor_type": "Xen"}, {"cmp2"}),
        # Unscoped keys count only when the host state has such an attribute or stat.
        ({"hypervisor_type": "QEMU"}, {"cmp1"}),
        ({"no_such_thing": "1"}, {"cmp1", "cmp2"}),
        ({"gpus": ">= 1"}, {"cmp1"}),
        ({"capabilities:gpus": "= 0"}, {"cmp1", "cmp2"}),
        # cpu_info is a JSON string in Nova; it is walked into.
        ({"capabilities:cpu_info:arch": "x86_64"}, {"cmp1"}),
        ({"capabilities:cpu_info:arch": "aarch64"}, {"cmp2"}),
        ({"capabilities:cpu_info:topology:cores": ">= 4"}, {"cmp1"}),
        ({"capabilities:cpu_info:features": "<in> avx2"}, {"cmp1"}),
        ({"capabilities:cpu_info:features": "<all-in> 'avx', 'sse4.2'"}, {"cmp1"}),
        ({"capabilities:vcpus_total": ">= 16"}, {"cmp1", "cmp2"}),
        ({"capabilities:numa": "yes"}, {"cmp1"}),  # missing on cmp2: fails
        ({"hw:maxphysaddr_bits": "46"}, {"cmp1"}),
        ({"hw:maxphysaddr_bits": "50"}, set()),
        # Other scopes are ignored by this filter.
        ({"aggregate_instance_extra_specs:ssd": "true", "hw:cpu_policy": "dedicated"}, {"cmp1", "cmp2"}),
    ],
)
def test_compute_capabilities(specs, expected):
    assert passing(CAP_HOSTS, flavor(extra_specs=specs), config=CCF) == expected


def test_compute_capabilities_reasons():
    message = failure(CAP_HOSTS, flavor(extra_specs={"capabilities:numa": "yes", "gpus": ">= 4"}), config=CCF)
    assert "cmp1 (capability gpus=2 does not satisfy '>= 4')" in message
    assert "cmp2 (has no capability numa (flavor asks capabilities:numa='yes'))" in message


def test_compute_capabilities_is_a_default_filter():
    assert passing(CAP_HOSTS, flavor(extra_specs={"capabilities:hypervisor_type": "Xen"})) == {"cmp2"}


# ---------------------------------------------------------------- ImagePropertiesFilter

IMG_HOSTS = [
    host("x86", hypervisor_type="QEMU", hypervisor_version=6002000,
         supported_instances=[["x86_64", "kvm", "hvm"], ["i686", "qemu", "hvm"]]),
    host("arm", hypervisor_type="QEMU", hypervisor_version=8000000, supported_instances=[["aarch64", "qemu", "hvm"]]),
    host("xen", hypervisor_type="Xen", hypervisor_version=4001000, supported_instances=[["x86_64", "xen", "xen"]]),
    host("bare", supported_instances=[]),
]
IPF = only("ImagePropertiesFilter")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (None, {"x86", "arm", "xen", "bare"}),
        ({"properties": {}}, {"x86", "arm", "xen", "bare"}),
        ({"properties": {"hw_architecture": "aarch64"}}, {"arm"}),
        ({"properties": {"hw_architecture": "amd64"}}, {"x86", "xen"}),  # canonicalised to x86_64
        ({"properties": {"hw_architecture": "i386"}}, {"x86"}),  # canonicalised to i686
        ({"properties": {"img_hv_type": "KVM"}}, {"x86"}),
        ({"properties": {"img_hv_type": "xapi"}}, {"xen"}),  # xapi means xen
        ({"properties": {"hw_vm_mode": "pv"}}, {"xen"}),  # pv means xen
        ({"properties": {"hw_vm_mode": "hvm", "hw_architecture": "x86_64"}}, {"x86"}),
        ({"properties": {"hw_architecture": "aarch64", "img_hv_requested_version": ">=7.0"}}, {"arm"}),
        ({"properties": {"hw_architecture": "x86_64", "img_hv_requested_version": ">=7.0"}}, set()),
        ({"properties": {"hw_architecture": "x86_64", "img_hv_requested_version": ">=6.2, <7"}}, {"x86"}),
        # Glance's legacy names.
        ({"architecture": "aarch64"}, {"arm"}),
        ({"properties": {"hypervisor_type": "xen"}}, {"xen"}),
    ],
)
def test_image_properties(image, expected):
    assert passing(IMG_HOSTS, image=image, config=IPF) == expected


def test_image_properties_default_architecture():
    assert passing(IMG_HOSTS, image={"properties": {}},
                   config=only("ImagePropertiesFilter", image_properties_default_architecture="aarch64")) == {"arm"}


def test_image_properties_infers_supported_instances_from_hypervisor_type():
    hosts = [host("kvm1", hypervisor_type="QEMU"), host("arm1", hypervisor_type="QEMU",
                                                         capabilities={"cpu_arch": "aarch64"})]
    assert passing(hosts, image={"properties": {"hw_architecture": "x86_64", "img_hv_type": "kvm"}},
                   config=IPF) == {"kvm1"}


def test_image_properties_reason():
    message = failure([IMG_HOSTS[1]], image={"properties": {"hw_architecture": "x86_64"}}, config=IPF)
    assert "ImagePropertiesFilter removed arm (image needs arch=x86_64; host supports aarch64/qemu/hvm)" in message


LXC_HOSTS = [host("qemu1", hypervisor_type="QEMU"), host("lxc1", hypervisor_type="LXC")]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (None, {"qemu1"}),  # no hypervisor named: a QEMU disk image, never on the container host
        ({"properties": {}}, {"qemu1"}),
        ({"properties": {"hypervisor_type": "lxc"}}, {"lxc1"}),  # a root filesystem tarball
        ({"properties": {"img_hv_type": "LXC", "hw_vm_mode": "exe"}}, {"lxc1"}),
        ({"properties": {"hypervisor_type": "qemu"}}, {"qemu1"}),
    ],
)
def test_image_without_hypervisor_type_is_qemus(image, expected):
    # Default filters: ImagePropertiesFilter is one of them.
    assert passing(LXC_HOSTS, image=image) == expected


def test_default_hypervisor_type_is_explicit_and_can_be_nova_again():
    assert passing(LXC_HOSTS, image=None, config=only("ImagePropertiesFilter",
                                                      image_properties_default_hypervisor_type="")) == {"qemu1", "lxc1"}
    message = failure([LXC_HOSTS[1]], image={"properties": {}})
    assert ("ImagePropertiesFilter removed lxc1 (image names no hypervisor_type, so it is a qemu disk image; host "
            "runs containers only (x86_64/lxc/exe)") in message


# ---------------------------------------------------------------- server groups


def test_anti_affinity_removes_hosts_with_members():
    hosts = [host("cmp1", instances=["vm-a"]), host("cmp2", instances=["vm-x"]), host("cmp3")]
    group = {"policy": "anti-affinity", "members": ["vm-a", "vm-b"]}
    assert passing(hosts, server_group=group) == {"cmp2", "cmp3"}


def test_anti_affinity_max_server_per_host():
    hosts = [host("cmp1", instances=["vm-a"]), host("cmp2", instances=["vm-b", "vm-c"])]
    group = {"policy": "anti-affinity", "members": ["vm-a", "vm-b", "vm-c"], "rules": {"max_server_per_host": 2}}
    assert passing(hosts, server_group=group) == {"cmp1"}
    message = failure(hosts, server_group={**group, "rules": {"max_server_per_host": "1"}})
    assert ("ServerGroupAntiAffinityFilter removed 2 hosts: cmp1 (already has 1 member of the anti-affinity group "
            "(max_server_per_host 1)), cmp2 (already has 2 members") in message


def test_anti_affinity_spreads_one_request():
    hosts = [host("cmp1"), host("cmp2"), host("cmp3")]
    group = {"policy": "anti-affinity", "members": []}
    assert sorted(chosen(hosts, server_group=group, num_instances=3)) == ["cmp1", "cmp2", "cmp3"]
    message = failure(hosts, server_group=group, num_instances=4)
    assert "placed 3 of 4 instances" in message
    assert "ServerGroupAntiAffinityFilter removed 3 hosts" in message


def test_anti_affinity_filter_ignores_other_policies():
    hosts = [host("cmp1", instances=["vm-a"])]
    for policy in ("affinity", "soft-anti-affinity", "soft-affinity"):
        assert passing(hosts, server_group={"policy": policy, "members": ["vm-a"]}) == {"cmp1"}


def test_affinity_keeps_to_the_group_hosts():
    hosts = [host("cmp1"), host("cmp2", instances=["vm-a"]), host("cmp3")]
    group = {"policy": "affinity", "members": ["vm-a"]}
    assert passing(hosts, server_group=group) == {"cmp2"}
    assert "ServerGroupAffinityFilter removed 2 hosts: cmp1 (the affinity group's servers are on cmp2)" in failure(
        [hosts[0], hosts[2], host("cmp2", instances=["vm-a"], memory_mb=512)], server_group=group)


def test_affinity_new_group_packs_one_request_on_one_host():
    hosts = [host("cmp1"), host("cmp2", memory_mb=65536), host("cmp3")]
    result = chosen(hosts, server_group={"policy": "affinity", "members": []}, num_instances=3)
    assert result == ["cmp2", "cmp2", "cmp2"]


def test_affinity_group_hosts_given_explicitly():
    hosts = [host("cmp1"), host("cmp2")]
    assert passing(hosts, server_group={"policy": "affinity", "members": ["gone"], "hosts": ["cmp1"]}) == {"cmp1"}


# ---------------------------------------------------------------- same/different host


def test_same_host_and_different_host_hints():
    hosts = [host("cmp1", instances=["vm-a"]), host("cmp2", instances=["vm-b"]), host("cmp3")]
    assert passing(hosts, scheduler_hints={"same_host": ["vm-a", "vm-z"]},
                   config=only("SameHostFilter")) == {"cmp1"}
    assert passing(hosts, scheduler_hints={"same_host": "vm-b"}, config=only("SameHostFilter")) == {"cmp2"}
    assert passing(hosts, scheduler_hints={"different_host": ["vm-a", "vm-b"]},
                   config=only("DifferentHostFilter")) == {"cmp3"}
    assert passing(hosts, scheduler_hints={}, config=only("SameHostFilter", "DifferentHostFilter")) == {
        "cmp1", "cmp2", "cmp3"}
    message = failure(hosts[:1], scheduler_hints={"different_host": ["vm-a"]}, config=only("DifferentHostFilter"))
    assert "DifferentHostFilter removed cmp1 (runs different_host server vm-a)" in message


# ---------------------------------------------------------------- AggregateMultiTenancyIsolation


def test_multi_tenancy_isolation():
    aggregates = [
        {"name": "p1", "metadata": {"filter_tenant_id": "proj-a,proj-b"}, "hosts": ["cmp1"]},
        {"name": "p2", "metadata": {"filter_tenant_id2": "proj-c"}, "hosts": ["cmp1"]},
        {"name": "other", "metadata": {"ssd": "true"}, "hosts": ["cmp2"]},
    ]
    hosts = [host("cmp1"), host("cmp2"), host("cmp3")]
    cfg = only("AggregateMultiTenancyIsolation")
    assert passing(hosts, aggregates=aggregates, project_id="proj-b", config=cfg) == {"cmp1", "cmp2", "cmp3"}
    assert passing(hosts, aggregates=aggregates, project_id="proj-c", config=cfg) == {"cmp1", "cmp2", "cmp3"}
    assert passing(hosts, aggregates=aggregates, project_id="proj-x", config=cfg) == {"cmp2", "cmp3"}
    assert "take only projects proj-a, proj-b, proj-c, not proj-x" in failure(
        hosts[:1], aggregates=aggregates, project_id="proj-x", config=cfg)


# ---------------------------------------------------------------- NumInstancesFilter / IoOpsFilter


def test_num_instances_filter():
    hosts = [host("cmp1", running_vms=50), host("cmp2", running_vms=49), host("cmp3", instances=["a", "b"])]
    assert passing(hosts, config=only("NumInstancesFilter")) == {"cmp2", "cmp3"}
    assert passing(hosts, config=only("NumInstancesFilter", max_instances_per_host=2)) == set()
    assert passing(hosts, config=only("NumInstancesFilter", max_instances_per_host=3)) == {"cmp3"}


def test_num_instances_counts_instances_placed_in_the_same_request():
    hosts = [host("cmp1", running_vms=1), host("cmp2", running_vms=1)]
    cfg = only("NumInstancesFilter", max_instances_per_host=2)
    assert sorted(chosen(hosts, num_instances=2, config=cfg)) == ["cmp1", "cmp2"]
    assert "NumInstancesFilter removed 2 hosts: cmp1 (has 2 instances, max_instances_per_host is 2)" in failure(
        hosts, num_instances=3, config=cfg)


def test_io_ops_filter():
    hosts = [host("cmp1", num_io_ops=8), host("cmp2", num_io_ops=7)]
    assert passing(hosts, config=only("IoOpsFilter")) == {"cmp2"}
    assert passing(hosts, config=only("IoOpsFilter", max_io_ops_per_host=9)) == {"cmp1", "cmp2"}
    # The first instance of the request makes cmp2 busy too.
    assert "IoOpsFilter removed 2 hosts" in failure(hosts, num_instances=2, config=only("IoOpsFilter"))


def test_aggregate_variants_use_the_minimum_over_aggregates():
    aggregates = [
        {"name": "a", "metadata": {"max_io_ops_per_host": "3", "max_instances_per_host": "4"}, "hosts": ["cmp1"]},
        {"name": "b", "metadata": {"max_io_ops_per_host": "2", "max_instances_per_host": "x"}, "hosts": ["cmp1"]},
    ]
    hosts = [host("cmp1", num_io_ops=2, running_vms=10), host("cmp2", num_io_ops=2, running_vms=10)]
    assert passing(hosts, aggregates=aggregates, config=only("AggregateIoOpsFilter")) == {"cmp2"}
    # An unparsable value falls back to the configured limit (50), as Nova does.
    assert passing(hosts, aggregates=aggregates, config=only("AggregateNumInstancesFilter")) == {"cmp1", "cmp2"}


def test_aggregate_type_affinity():
    aggregates = [{"name": "big", "metadata": {"instance_type": "m1.large,m1.xlarge"}, "hosts": ["cmp1"]}]
    hosts = [host("cmp1"), host("cmp2")]
    cfg = only("AggregateTypeAffinityFilter")
    assert passing(hosts, flavor(name="m1.small"), aggregates=aggregates, config=cfg) == {"cmp2"}
    assert passing(hosts, flavor(name="m1.large"), aggregates=aggregates, config=cfg) == {"cmp1", "cmp2"}


def test_all_hosts_filter_passes_everything():
    hosts = [host("cmp1", enabled=False), host("cmp2", up=False)]
    assert passing(hosts, config=only("AllHostsFilter")) == {"cmp1", "cmp2"}
