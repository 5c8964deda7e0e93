#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aggregate
short_description: Create, update or delete a host aggregate and its availability zone
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a host aggregate in the ministack catalog, as C(openstack aggregate create/set/add host/delete) does.
  - An aggregate groups compute hosts under metadata that the scheduler matches against flavor extra specs.
    Setting O(availability_zone) makes the aggregate an availability zone.
  - A host is in at most one availability zone (Nova's rule and message). A host in no zone is in C(nova).
    A host that has servers cannot move to another zone.
  - On O(state=absent) the hosts leave the aggregate first, then it is deleted.
options:
  name:
    description: Name of the aggregate; unique.
    type: str
    required: true
  state:
    description: Whether the aggregate should exist.
    type: str
    choices: [present, absent]
    default: present
  metadata:
    description:
      - Metadata (properties) of the aggregate, for example C(SSD=true).
      - When given, these are all the aggregate's metadata; keys not listed are removed. Values are stored
        as strings (a YAML C(true) is stored as C(true)). The zone is set with O(availability_zone), not here.
    type: dict
  availability_zone:
    description:
      - The availability zone this aggregate defines. An empty string removes the zone.
      - Omitted, the current zone is kept.
    type: str
  hosts:
    description:
      - Compute hosts in the aggregate, by the names they were registered with (M(ministack.cloud.compute_service)).
      - Omitted, the current hosts are kept.
    type: list
    elements: str
  purge_hosts:
    description: Whether hosts not listed in O(hosts) are removed from the aggregate.
    type: bool
    default: true
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.aggregate_info
  - module: ministack.cloud.availability_zone_info
"""

EXAMPLES = r"""
- name: Hosts with SSDs, in zone az1 (openstack aggregate create --zone az1 --property SSD=true agg1)
  ministack.cloud.aggregate:
    name: agg1
    availability_zone: az1
    metadata:
      SSD: "true"
    hosts:
      - compute1

- name: Add a host, keeping the others
  ministack.cloud.aggregate:
    name: agg1
    hosts: [compute2]
    purge_hosts: false

- name: Delete the aggregate
  ministack.cloud.aggregate:
    name: agg1
    state: absent
"""

RETURN = r"""
aggregate:
  description: The aggregate, with the fields of C(openstack aggregate show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Aggregate ID.
      type: int
      sample: 1
    uuid:
      description: Aggregate UUID.
      type: str
      sample: 9a1a8f3c-2d0e-4c0e-9c57-7d3f0a5d1a11
    name:
      description: Aggregate name.
      type: str
      sample: agg1
    availability_zone:
      description: The zone it defines, or null.
      type: str
      sample: az1
    metadata:
      description: Metadata (C(properties) in the CLI), without the availability_zone key.
      type: dict
      sample: {"SSD": "true"}
    hosts:
      description: Hosts in the aggregate, sorted.
      type: list
      elements: str
      sample: [compute1]
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2025-01-15T07:02:32.000000"
    updated_at:
      description: Last update time, UTC, or null.
      type: str
      sample: "2025-01-15T07:02:33.319967"
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    metadata=dict(type="dict"),
    availability_zone=dict(type="str"),
    hosts=dict(type="list", elements="str"),
    purge_hosts=dict(type="bool", default=True),
    **CATALOG_SPEC,
)


def main():
    controller_only("aggregate", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
