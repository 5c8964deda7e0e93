#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: List networks (openstack network list)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the networks in the ministack catalog; C(id), C(name) and C(subnets) are the columns of
    C(openstack network list).
options:
  name:
    description: Name or ID of one network. All networks when omitted.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.network
"""

EXAMPLES = r"""
- name: openstack network list
  ministack.cloud.network_info:
  register: nets

- name: Print it as the CLI does
  ansible.builtin.debug:
    msg: "{{ nets.networks | ministack.cloud.cli_table([['ID', 'id'], ['Name', 'name'], ['Subnets', 'subnets']]) }}"
"""

RETURN = r"""
networks:
  description: The networks, sorted by name (fields as M(ministack.cloud.network) returns, plus C(ports_in_use)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("network_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
