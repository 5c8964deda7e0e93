"""Storage policies declared in the inventory: completed, or refused with one message naming the field."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.filter import ring as ring_filters
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring import RingError
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.policies import storage_policies

THREE = [
    {"name": "gold", "index": 0, "default": True},
    {"name": "ec42", "index": 2, "type": "erasure_coding", "ec_num_data_fragments": 4, "ec_num_parity_fragments": 2},
    {"name": "silver", "index": 1, "replicas": 2},
]


def test_completed_and_sorted():
    out = storage_policies(THREE, 3)
    assert [(p["index"], p["ring"], p["replicas"], p["type"]) for p in out] == [
        (0, "object", 3, "replication"), (1, "object-1", 2, "replication"), (2, "object-2", 6, "erasure_coding")]
    assert out[2]["ec_type"] == "liberasurecode_rs_vand" and out[2]["ec_object_segment_size"] == 1048576
    assert [p["default"] for p in out] == [True, False, False]
    assert storage_policies([{"name": "Policy-0", "index": 0}])[0]["default"] is True


@pytest.mark.parametrize("policies, message", [
    ([], "must be a non-empty list"),
    ([{"name": "a b", "index": 0}], r"object_storage_policies\[0\]: name must be letters"),
    ([{"name": "a", "index": 0, "colour": 1}], "unknown field 'colour'"),
    ([{"name": "a", "index": -1}], r"\(a\): index must be an integer >= 0"),
    ([{"name": "a", "index": 1}], "no policy has index 0"),
    ([{"name": "a", "index": 0}, {"name": "A", "index": 1}], "name 'A' is used by both a and A"),
    ([{"name": "a", "index": 0}, {"name": "b", "index": 0}], "index 0 is used by both"),
    ([{"name": "a", "index": 0}, {"name": "b", "index": 1}], "no policy has default: true"),
    ([{"name": "a", "index": 0, "default": True}, {"name": "b", "index": 1, "default": True}],
     "default is true on a, b"),
    ([{"name": "a", "index": 0, "default": True, "deprecated": True}], "both default and deprecated"),
    ([{"name": "a", "index": 0, "type": "ec"}], "type must be replication or erasure_coding"),
    ([{"name": "a", "index": 0, "type": "erasure_coding", "ec_num_data_fragments": 4}],
     r"\(a\): type erasure_coding needs ec_num_parity_fragments"),
    ([{"name": "a", "index": 0, "type": "erasure_coding", "replicas": 3, "ec_num_data_fragments": 4,
       "ec_num_parity_fragments": 2}], "replicas does not apply to an erasure-coded policy"),
    ([{"name": "a", "index": 0, "ec_num_data_fragments": 4}], "ec_num_data_fragments is for type erasure_coding"),
    ([{"name": "a", "index": 0, "type": "erasure_coding", "ec_type": "rs", "ec_num_data_fragments": 4,
       "ec_num_parity_fragments": 2}], "ec_type must be one of"),
    ([{"name": "a", "index": 0, "replicas": 0}], "replicas must be a number >= 1"),
])
def test_refused_with_one_message(policies, message):
    with pytest.raises(RingError, match=message):
        storage_policies(policies)
    with pytest.raises(AnsibleFilterError, match=message):
        ring_filters.swift_storage_policies(policies)
