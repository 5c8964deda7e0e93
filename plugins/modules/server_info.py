#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_info
short_description: List servers (openstack server list / show)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the servers of the ministack catalog (not deleted) with the fields of C(openstack server show).
options:
  server:
    description: Name or ID of one server. All servers when omitted.
    type: str
    aliases: [name]
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.server
"""

EXAMPLES = r"""
- name: openstack server show instance01
  ministack.cloud.server_info:
    server: instance01
  register: info

- name: Print it as the CLI does
  ansible.builtin.debug:
    msg: "{{ info.servers[0] | ministack.cloud.cli_show }}"
"""

RETURN = r"""
servers:
  description:
    - The servers, sorted by name, each with the keys M(ministack.cloud.server) returns in C(server) (plain data,
      C(addresses) as a list of C(network), C(address), C(version), C(mac); C(flavor) and C(image) as dicts with
      C(id) and C(name); C(vm_state), C(power_state), C(task_state); C(volumes_attached) as a list).
    - The C(ministack.cloud.cli_show) filter with C(resource=server) prints one as C(openstack server show) does.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    server=dict(type="str", aliases=["name"]),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
