#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: flavor_info
short_description: List flavors
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists the flavors of the ministack catalog, sorted by id as C(openstack flavor list) does.
options:
  name:
    description: Only the flavor with this name or id.
    type: str
  ram:
    description: Only flavors whose ram (MiB) matches, for example C(512) or C(>=1024) (also C(<=), C(>), C(<), C(==)).
    type: str
  vcpus:
    description: Only flavors whose vcpus match, for example C(2) or C(>=2).
    type: str
  ephemeral:
    description: Only flavors whose ephemeral disk (GiB) matches, for example C(0).
    type: str
  limit:
    description: Return at most this many flavors.
    type: int
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.flavor
"""

EXAMPLES = r"""
- name: List flavors (openstack flavor list)
  ministack.cloud.flavor_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.flavors | ministack.cloud.cli_table(['id', 'name', 'ram', 'disk', 'ephemeral', 'vcpus', 'is_public']) }}"

- name: Flavors with at least 2 GiB of memory
  ministack.cloud.flavor_info:
    ram: ">=2048"
"""

RETURN = r"""
flavors:
  description: The flavors, each with the fields of M(ministack.cloud.flavor)'s RV(ministack.cloud.flavor#module:flavor) result.
  returned: always
  type: list
  elements: dict
  sample:
    - id: "1"
      name: m1.tiny
      ram: 512
      vcpus: 1
      disk: 1
      ephemeral: 0
      swap: 0
      rxtx_factor: 1.0
      is_public: true
      is_disabled: false
      description: null
      extra_specs: {}
      created_at: "2025-01-15T07:02:32.000000"
      updated_at: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    ram=dict(type="str"),
    vcpus=dict(type="str"),
    ephemeral=dict(type="str"),
    limit=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("flavor_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
