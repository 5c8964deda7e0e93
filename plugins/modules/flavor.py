#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: flavor
short_description: Create, update or delete a flavor (Nova's instance sizes)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a flavor in the ministack catalog, as C(openstack flavor create/set/delete) does.
  - A flavor is found by O(name). An existing flavor is updated in place and keeps its id, so servers and
    playbooks that refer to it keep working (it is never deleted and created again).
  - The O(ram), O(vcpus) and O(disk) of a flavor that servers use cannot change; the task fails naming
    those servers.
  - A new catalog already holds the six flavors C(m1.tiny) (1), C(m1.small) (2), C(m1.medium) (3),
    C(m1.large) (4), C(m1.xlarge) (5) and C(newflavor) (20).
options:
  name:
    description: Name of the flavor; unique.
    type: str
    required: true
  state:
    description: Whether the flavor should exist.
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - ID of a new flavor, for example C(10). Omitted or C(auto) gives a UUID.
      - The id of an existing flavor never changes; giving a different one fails.
    type: str
    aliases: [flavorid]
  ram:
    description: Memory in MiB. Required to create a flavor.
    type: int
  vcpus:
    description: Number of virtual CPUs. Required to create a flavor.
    type: int
  disk:
    description: Root disk size in GiB (0 means the image's size). Required to create a flavor.
    type: int
  ephemeral:
    description: Ephemeral disk size in GiB. C(0) when a flavor is created without it.
    type: int
  swap:
    description: Swap disk size in MiB. C(0) when a flavor is created without it.
    type: int
  rxtx_factor:
    description: Network bandwidth factor. C(1.0) when a flavor is created without it.
    type: float
  is_public:
    description: Whether every project may use the flavor. C(true) when a flavor is created without it.
    type: bool
  description:
    description: Free text about the flavor.
    type: str
  extra_specs:
    description:
      - Extra specs (properties), matched by the scheduler against aggregate metadata and host
        capabilities, for example C(SSD=true).
      - When given, these are all the flavor's extra specs; keys not listed are removed. Values are
        stored as strings (a YAML C(true) is stored as C(true)).
    type: dict
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.flavor_info
"""

EXAMPLES = r"""
- name: Create the OpenStack walkthrough's m1.tinier flavor with id 10
  ministack.cloud.flavor:
    name: m1.tinier
    id: "10"
    ram: 256
    vcpus: 1
    disk: 2
    is_public: true

- name: Mark m1.large for hosts with SSDs (openstack flavor set --property SSD=true m1.large)
  ministack.cloud.flavor:
    name: m1.large
    extra_specs:
      SSD: "true"

- name: Delete a flavor
  ministack.cloud.flavor:
    name: m1.tinier
    state: absent
"""

RETURN = r"""
flavor:
  description: The flavor, with the fields of C(openstack flavor show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Flavor ID.
      type: str
      sample: "10"
    name:
      description: Flavor name.
      type: str
      sample: m1.tinier
    ram:
      description: Memory in MiB.
      type: int
      sample: 256
    vcpus:
      description: Virtual CPUs.
      type: int
      sample: 1
    disk:
      description: Root disk in GiB.
      type: int
      sample: 2
    ephemeral:
      description: Ephemeral disk in GiB.
      type: int
      sample: 0
    swap:
      description: Swap in MiB (0 for none).
      type: int
      sample: 0
    rxtx_factor:
      description: Bandwidth factor.
      type: float
      sample: 1.0
    is_public:
      description: Whether every project may use it.
      type: bool
      sample: true
    is_disabled:
      description: Whether it is disabled (OS-FLV-DISABLED:disabled).
      type: bool
      sample: false
    description:
      description: Free text, or null.
      type: str
      sample: null
    extra_specs:
      description: Extra specs (C(properties) in the CLI).
      type: dict
      sample: {"SSD": "true"}
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2025-01-15T07:02:32.000000"
    updated_at:
      description: Last update time, UTC, or null.
      type: str
      sample: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    id=dict(type="str", aliases=["flavorid"]),
    ram=dict(type="int"),
    vcpus=dict(type="int"),
    disk=dict(type="int"),
    ephemeral=dict(type="int"),
    swap=dict(type="int"),
    rxtx_factor=dict(type="float"),
    is_public=dict(type="bool"),
    description=dict(type="str"),
    extra_specs=dict(type="dict"),
    **CATALOG_SPEC,
)


def main():
    controller_only("flavor", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
