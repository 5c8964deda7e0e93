"""The Jinja2 filter wrapper: argument passing, omit, and the error type."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.filter.select_hosts import FilterModule
from sched_helpers import flavor, host

select_hosts = FilterModule().filters()["select_hosts"]


def test_filter_returns_plain_placements():
    assert select_hosts([host("cmp1"), host("cmp2", memory_mb=65536)], flavor()) == [
        {"host": "cmp2", "alternates": ["cmp1"]}]


def test_omit_sentinel_counts_as_not_given():
    try:
        from ansible._internal._templating._utils import Omit  # ansible-core 2.19+
    except ImportError:  # pragma: no cover - older ansible-core passes a placeholder string
        Omit = "__omit_place_holder__deadbeef"
    result = select_hosts([host("cmp1")], flavor(), image=Omit, availability_zone=Omit, scheduler_hints=Omit,
                          server_group=Omit, aggregates=Omit, project_id=Omit, num_instances=Omit, config=Omit)
    assert result == [{"host": "cmp1", "alternates": []}]


def test_no_valid_host_becomes_a_filter_error_with_novas_message():
    with pytest.raises(AnsibleFilterError) as info:
        select_hosts([host("cmp2", memory_mb=4096, memory_mb_used=2048)], flavor(ram=2048))
    assert str(info.value).startswith("No valid host was found.")
    assert "RamFilter removed cmp2 (needs 2048 MB, 1536 MB free)" in str(info.value)


def test_bad_input_becomes_a_filter_error_naming_the_field():
    with pytest.raises(AnsibleFilterError, match=r"flavor: 'ram' is required"):
        select_hosts([host("cmp1")], {"vcpus": 1})
