#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: List volumes (openstack volume list / show)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the project's volumes with the fields of C(openstack volume show), and C(table), the rows of
    C(openstack volume list) (ID, Name, Status, Size, Attached to) for printing.
options:
  name:
    description: Only the volume with this name or id.
    type: str
  status:
    description: Only volumes in this status.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
  - ministack.cloud.catalog.project
"""

EXAMPLES = r"""
- name: openstack volume list
  ministack.cloud.volume_info:
  register: volumes

- name: Print it as the CLI does
  ansible.builtin.debug:
    msg: "{{ volumes.volumes | ministack.cloud.cli_table(['ID', 'Name', 'Status', 'Size', 'Attached to'], resource='volume') }}"
"""

RETURN = r"""
volumes:
  description:
    - The volumes, each with the keys M(ministack.cloud.volume) returns in C(volume) (plain data; C(bootable) a
      boolean, C(attachments) a list of dicts with the server's ID and name).
    - The C(ministack.cloud.cli_table) filter with C(resource=volume) prints them as C(openstack volume list)
      does (columns C(ID), C(Name), C(Status), C(Size), C(Attached to)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    status=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("volume_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
