#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_group_info
short_description: List server groups
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists server groups as C(openstack server group list --long) does.
options:
  name:
    description: Only the group with this name.
    type: str
  project:
    description: Name or ID of the project; the default project when omitted.
    type: str
  all_projects:
    description: List the groups of every project.
    type: bool
    default: false
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.server_group
"""

EXAMPLES = r"""
- name: List server groups
  ministack.cloud.server_group_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.server_groups | ministack.cloud.cli_table(['id', 'name', 'policy', 'member_ids']) }}"
"""

RETURN = r"""
server_groups:
  description: The groups, sorted by name, each as M(ministack.cloud.server_group) returns one.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3a1bd7a2-3c5e-4d8b-9a3b-25c4e1f0b7de
      name: web
      policy: anti-affinity
      rules: {"max_server_per_host": 2}
      member_ids: []
      project_id: 5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7
      created_at: "2025-01-15T07:02:32.000000"
      updated_at: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    project=dict(type="str"),
    all_projects=dict(type="bool", default=False),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_group_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
