#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_group
short_description: Create or delete a server group (affinity, anti-affinity)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a server group in the ministack catalog, as C(openstack server group create/delete) does.
  - The scheduler keeps a group's servers on one host (C(affinity)), on different hosts (C(anti-affinity), at most
    C(max_server_per_host) per host), or prefers so (C(soft-affinity), C(soft-anti-affinity)).
  - An empty group may change its policy and rules in place; a group with members cannot (its servers were
    placed under the old rules).
options:
  name:
    description: Name of the group; unique within the project.
    type: str
    required: true
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
  policy:
    description: Placement policy. Required to create a group.
    type: str
    choices: [affinity, anti-affinity, soft-affinity, soft-anti-affinity]
  rules:
    description:
      - Policy rules; only C(anti-affinity) takes one, C(max_server_per_host) (default 1).
    type: dict
  project:
    description: Name or ID of the owning project; the default project when omitted.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.server_group_info
"""

EXAMPLES = r"""
- name: Spread web servers, at most two per host
  ministack.cloud.server_group:
    name: web
    policy: anti-affinity
    rules:
      max_server_per_host: 2

- name: Keep a database and its cache together
  ministack.cloud.server_group:
    name: db
    policy: affinity
"""

RETURN = r"""
server_group:
  description: The group, with the fields of C(openstack server group show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Group ID.
      type: str
      sample: 3a1bd7a2-3c5e-4d8b-9a3b-25c4e1f0b7de
    name:
      description: Group name.
      type: str
      sample: web
    policy:
      description: Placement policy.
      type: str
      sample: anti-affinity
    rules:
      description: Policy rules.
      type: dict
      sample: {"max_server_per_host": 2}
    member_ids:
      description: IDs of the servers in the group.
      type: list
      elements: str
      sample: []
    project_id:
      description: Owning project.
      type: str
      sample: 5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7
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
    policy=dict(type="str", choices=["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]),
    rules=dict(type="dict"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_group", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
