#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aggregate_info
short_description: List host aggregates
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists the host aggregates of the ministack catalog (C(openstack aggregate list --long)).
options:
  name:
    description: Only the aggregate with this name.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.aggregate
"""

EXAMPLES = r"""
- name: List aggregates
  ministack.cloud.aggregate_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.aggregates | ministack.cloud.cli_table(['id', 'name', 'availability_zone', 'metadata', 'hosts']) }}"
"""

RETURN = r"""
aggregates:
  description: The aggregates, each as M(ministack.cloud.aggregate) returns one, sorted by id.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 1
      uuid: 9a1a8f3c-2d0e-4c0e-9c57-7d3f0a5d1a11
      name: agg1
      availability_zone: az1
      metadata: {"SSD": "true"}
      hosts: [compute1]
      created_at: "2025-01-15T07:02:32.000000"
      updated_at: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("aggregate_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
