"""The pick, alternates, determinism, diagnostics, input checking and the plug-in registry."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import (
    FILTERS,
    WEIGHERS,
    BaseFilter,
    BaseWeigher,
    NoValidHost,
    SchedulerInputError,
    register_filter,
    register_weigher,
    select_hosts,
)
from sched_helpers import chosen, failure, flavor, host


def spread(n, **fields):
    """n hosts whose free RAM falls with the index, so cmp0 is best."""
    return [host(f"cmp{i}", memory_mb_used=i * 1024, **fields) for i in range(n)]


def test_one_instance_with_two_alternates_by_default():
    assert select_hosts(spread(5), flavor()) == [{"host": "cmp0", "alternates": ["cmp1", "cmp2"]}]


@pytest.mark.parametrize(("max_attempts", "expected"), [(1, []), (2, ["cmp1"]), (4, ["cmp1", "cmp2", "cmp3"]),
                                                        (10, ["cmp1", "cmp2", "cmp3", "cmp4"])])
def test_alternates_are_max_attempts_minus_one(max_attempts, expected):
    result = select_hosts(spread(5), flavor(), config={"max_attempts": max_attempts})
    assert result[0]["alternates"] == expected


def test_alternates_exclude_every_selected_host_and_see_consumption():
    result = select_hosts(spread(6), flavor(), num_instances=2, config={"ram_weight_multiplier": 1.0})
    # After one instance cmp0 ties cmp1 on RAM and has less CPU free, so cmp1 takes the second.
    assert [r["host"] for r in result] == ["cmp0", "cmp1"]
    assert all(r["alternates"] == ["cmp2", "cmp3"] for r in result)


def test_alternates_only_from_hosts_that_pass_the_filters():
    hosts = spread(4)
    hosts[1]["enabled"] = False
    assert select_hosts(hosts, flavor())[0]["alternates"] == ["cmp2", "cmp3"]


def test_ties_break_by_host_name_whatever_the_input_order():
    hosts = [host(name) for name in ("delta", "alpha", "charlie", "bravo")]
    assert select_hosts(hosts, flavor()) == [{"host": "alpha", "alternates": ["bravo", "charlie"]}]
    assert select_hosts(list(reversed(hosts)), flavor()) == [{"host": "alpha", "alternates": ["bravo", "charlie"]}]


def test_host_subset_size_picks_among_the_best_only():
    hosts = spread(6)
    seen = {chosen(hosts, config={"host_subset_size": 3, "random_seed": seed})[0] for seed in range(60)}
    assert seen == {"cmp0", "cmp1", "cmp2"}
    repeat = {chosen(hosts, config={"host_subset_size": 3, "random_seed": 7})[0] for _ in range(5)}
    assert len(repeat) == 1


def test_shuffle_best_same_weighed_hosts_spreads_ties_only():
    hosts = [host("a"), host("b"), host("c"), host("d", memory_mb=16384)]
    config = {"shuffle_best_same_weighed_hosts": True}
    seen = {chosen(hosts, config={**config, "random_seed": seed})[0] for seed in range(40)}
    assert seen == {"a", "b", "c"}
    assert {chosen(hosts, config={**config, "random_seed": s, "host_subset_size": 4})[0] for s in range(60)} == {
        "a", "b", "c", "d"}


def test_filters_after_an_empty_list_are_reported_as_not_run():
    message = failure([host("cmp1", enabled=False)], flavor(extra_specs={"capabilities:x": "1"}),
                      server_group={"policy": "anti-affinity", "members": []})
    assert message.endswith(
        "Not run (no hosts left): ComputeCapabilitiesFilter, ServerGroupAntiAffinityFilter.")


def test_multi_instance_consumes_between_instances():
    # Each host fits two 1 GB instances in RAM: 2560 - 512 = 2048.
    hosts = [host(f"cmp{i}", memory_mb=2560) for i in range(3)]
    result = chosen(hosts, flavor(ram=1024), num_instances=6)
    assert sorted(result) == ["cmp0", "cmp0", "cmp1", "cmp1", "cmp2", "cmp2"]
    assert result[:3] == ["cmp0", "cmp1", "cmp2"]  # spreading: the emptier host wins each time


def test_input_is_not_modified():
    hosts = spread(3)
    before = copy.deepcopy(hosts)
    select_hosts(hosts, flavor(), num_instances=3, server_group={"policy": "anti-affinity", "members": []})
    assert hosts == before


def test_no_valid_host_message_lists_every_filter_that_ran():
    hosts = [host("cmp1", enabled=False), host("cmp2", memory_mb=4096, memory_mb_used=2048), host("cmp3")]
    hosts[2]["capabilities"] = {"gpu": "0"}
    message = failure(hosts, flavor(ram=2048, extra_specs={"capabilities:gpu": ">= 1"}))
    assert message == (
        "No valid host was found. 3 hosts considered; RamFilter removed cmp2 (needs 2048 MB, 1536 MB free); "
        "CoreFilter removed none; DiskFilter removed none; ComputeFilter removed cmp1 (compute service is disabled); "
        "ComputeCapabilitiesFilter removed cmp3 (capability gpu=0 does not satisfy '>= 1').")


def test_no_valid_host_message_caps_the_examples():
    hosts = [host(f"cmp{i}", enabled=False) for i in range(8)]
    message = failure(hosts)
    assert "ComputeFilter removed 8 hosts: cmp0 (compute service is disabled)," in message
    assert "cmp4 (compute service is disabled) and 3 more" in message


def test_no_hosts_at_all():
    with pytest.raises(NoValidHost, match=r"^No valid host was found\. No hosts were given"):
        select_hosts([], flavor())


def test_no_valid_host_is_raised_with_nova_prefix():
    with pytest.raises(NoValidHost) as info:
        select_hosts([host("cmp1", memory_mb=512)], flavor())
    assert str(info.value).startswith("No valid host was found. ")
    assert info.value.reason and not info.value.reason.startswith("No valid host")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hosts": [{"vcpus": 1}]}, "hosts[0]: 'name' is required"),
        ({"hosts": [host("a", memory_mb="lots")]}, "hosts[0] (a): memory_mb must be a number, got 'lots'"),
        ({"hosts": [host("a"), host("a")]}, "host name 'a' appears more than once"),
        ({"hosts": [host("a", enabled="maybe")]}, "hosts[0] (a): enabled must be a boolean"),
        ({"hosts": [host("a", ram_allocation_ratio=0)]}, "ram_allocation_ratio must be greater than 0"),
        ({"hosts": "cmp1"}, "hosts: must be a list"),
        ({"flavor": {"vcpus": 1}}, "flavor: 'ram' is required"),
        ({"flavor": {"vcpus": 1, "ram": "big"}}, "flavor: ram must be a whole number"),
        ({"config": {"enabled_filters": ["NoSuchFilter"]}}, "config.enabled_filters: unknown filter NoSuchFilter"),
        ({"config": {"weight_classes": ["Nope"]}}, "config.weight_classes: unknown weigher Nope"),
        ({"config": {"ram_weight_multiplyer": 1}}, "config: unknown option ram_weight_multiplyer"),
        ({"config": {"host_subset_size": 0}}, "config.host_subset_size: must be at least 1"),
        ({"config": {"max_attempts": "x"}}, "config.max_attempts: must be a whole number"),
        ({"server_group": {"policy": "together"}}, "server_group.policy: must be one of"),
        ({"num_instances": 0}, "num_instances: must be at least 1"),
        ({"aggregates": [{"name": "x", "hosts": "cmp1"}]}, "aggregates[0] (x): hosts must be a list"),
    ],
)
def test_bad_input_names_the_field(kwargs, message):
    args = {"hosts": [host("cmp1")], "flavor": flavor(), **kwargs}
    with pytest.raises(SchedulerInputError) as info:
        select_hosts(args.pop("hosts"), args.pop("flavor"), **args)
    assert message in str(info.value)


def test_missing_optional_fields_take_nova_defaults():
    # Only capacity given: enabled/up default to true, ratios to 4.0/1.0/1.0, 512 MB reserved.
    bare = {"name": "cmp1", "vcpus": 2, "vcpus_used": 7, "memory_mb": 1536, "local_gb": 10}
    assert chosen([bare], flavor(vcpus=1, ram=1024, disk=10)) == ["cmp1"]  # 7 + 1 <= 2 * 4.0
    assert "RamFilter removed cmp1 (needs 1025 MB, 1024 MB free)" in failure([bare], flavor(ram=1025))


def test_nova_dotted_class_paths_and_comma_strings_are_accepted():
    config = {"enabled_filters": "nova.scheduler.filters.compute_filter.ComputeFilter, IoOpsFilter",
              "weight_classes": ["nova.scheduler.weights.all_weighers"]}
    assert chosen([host("cmp1"), host("cmp2", enabled=False)], config=config) == ["cmp1"]


def test_omit_placeholder_strings_count_as_not_given():
    omit = "__omit_place_holder__0123456789abcdef"
    assert chosen([host("cmp1")], image=omit, availability_zone=omit, scheduler_hints=omit, server_group=omit,
                  aggregates=omit, project_id=omit, config=omit) == ["cmp1"]


def test_new_filters_and_weighers_plug_in_by_name():
    @register_filter
    class EvenRackFilter(BaseFilter):
        def host_passes(self, host_state, request):
            return int(host_state.capabilities.get("rack", 0)) % 2 == 0

        def reason(self, host_state, request):
            return f"rack {host_state.capabilities.get('rack')} is odd"

    @register_weigher
    class RackWeigher(BaseWeigher):
        multiplier_option = None

        def weigh_object(self, host_state, request):
            return int(host_state.capabilities.get("rack", 0))

    try:
        hosts = [host(f"cmp{r}", capabilities={"rack": str(r)}) for r in (1, 2, 3, 4)]
        config = {"enabled_filters": ["EvenRackFilter"], "weight_classes": ["RackWeigher"]}
        assert select_hosts(hosts, flavor(), config=config) == [{"host": "cmp4", "alternates": ["cmp2"]}]
        assert "EvenRackFilter removed cmp1 (rack 1 is odd)" in failure(hosts[:1], config=config)
    finally:
        FILTERS.pop("EvenRackFilter")
        WEIGHERS.pop("RackWeigher")


def test_the_library_imports_without_ansible():
    import subprocess
    import sys
    from pathlib import Path

    collections_dir = Path(__file__).resolve().parents[3] / "collections"
    code = (
        "import sys; sys.modules['ansible'] = None; "  # any `import ansible...` now fails
        f"sys.path.insert(0, {str(collections_dir)!r}); "
        "from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import select_hosts; "
        "print(select_hosts([{'name': 'a', 'vcpus': 1, 'memory_mb': 2048, 'local_gb': 1}], "
        "{'vcpus': 1, 'ram': 1, 'disk': 1})[0]['host'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "a"
