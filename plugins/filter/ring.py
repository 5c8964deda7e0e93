# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift ring filters: build or rebalance a ring, and find where a path lives."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as ringlib
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.policies import storage_policies


def _fail(exc):
    raise AnsibleFilterError(str(exc)) from None


def ring_rebalance(previous_ring, devices, part_power=10, replicas=3, min_part_hours=1, overload=0.0, seed=None):
    """The new ring (builder state) for ``devices``; ``previous_ring`` none for a new ring."""
    try:
        return ringlib.rebalance(previous_ring or None, devices, part_power=part_power, replicas=replicas,
                                 min_part_hours=min_part_hours, overload=overload, seed=seed)
    except ringlib.RingError as exc:
        _fail(exc)


def ring_partition(ring, account, container=None, object=None, hash_path_prefix="", hash_path_suffix=""):
    """The partition of /account[/container[/object]], as Swift's Ring.get_part."""
    try:
        view = ringlib.view_of(ring)
        return view.get_part(account, container, object, hash_path_prefix, hash_path_suffix)
    except ringlib.RingError as exc:
        _fail(exc)


def ring_nodes(ring, account, container=None, object=None, hash_path_prefix="", hash_path_suffix="",
               handoffs=0):
    """Primary devices (with ``index``) then ``handoffs`` handoff devices (with ``handoff_index``)."""
    if isinstance(handoffs, bool) or not isinstance(handoffs, int) or handoffs < 0:
        _fail(f"handoffs must be an integer >= 0, got {handoffs!r}")
    try:
        view = ringlib.view_of(ring)
        return view.get_nodes(account, container, object, hash_path_prefix, hash_path_suffix, handoffs)[1]
    except ringlib.RingError as exc:
        _fail(exc)


def swift_storage_policies(declared, replicas=3):
    """``object_storage_policies`` checked and completed (one message naming the policy and field)."""
    try:
        return storage_policies(declared, replicas)
    except ringlib.RingError as exc:
        _fail(exc)


class FilterModule:
    def filters(self):
        return {"ring_rebalance": ring_rebalance, "ring_partition": ring_partition, "ring_nodes": ring_nodes,
                "swift_storage_policies": swift_storage_policies}
