#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair_info
short_description: List keypairs
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists the keypairs of a project in the ministack catalog (C(openstack keypair list)). Public keys only.
options:
  name:
    description: Only the keypair with this name.
    type: str
  project:
    description: Name or ID of the project; the default project when omitted.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.keypair
"""

EXAMPLES = r"""
- name: List keypairs
  ministack.cloud.keypair_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.keypairs | ministack.cloud.cli_table(['name', 'fingerprint', 'type']) }}"
"""

RETURN = r"""
keypairs:
  description: The keypairs, sorted by name, each as M(ministack.cloud.keypair) returns one (without a private key).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 1
      name: mykeypair
      type: ssh
      fingerprint: "1f:4b:0a:49:7d:3c:76:5d:38:63:2c:7b:8c:8c:63:9e"
      public_key: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ... Generated-by-ministack mykeypair
      project_id: 5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7
      created_at: "2025-01-15T07:02:32.000000"
      updated_at: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("keypair_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
