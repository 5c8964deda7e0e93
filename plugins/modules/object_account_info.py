#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_account_info
short_description: Show a Swift account's totals and metadata
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - The fields of C(openstack object store account show) for the account the credentials log in to.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ministack.cloud.object_store
attributes:
  check_mode:
    support: full
    details: This module only reads.
  diff_mode:
    support: none
seealso:
  - module: ministack.cloud.object_container_info
"""

EXAMPLES = r"""
- name: Show the account (openstack object store account show)
  ministack.cloud.object_account_info:
    auth: "{{ swift_auth }}"
  register: account
"""

RETURN = r"""
account:
  description: The account.
  returned: always
  type: dict
  contains:
    account:
      description: Account name.
      type: str
      sample: AUTH_test
    bytes:
      description: Bytes stored.
      type: int
      sample: 29
    containers:
      description: Number of containers.
      type: int
      sample: 1
    objects:
      description: Number of objects.
      type: int
      sample: 1
    properties:
      description: Account metadata, lower-case keys.
      type: dict
      sample: {}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(**CONNECTION_SPEC)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(
        msg="ministack.cloud.object_account_info runs on the controller as an action plugin; it cannot run as a module."
    )


if __name__ == "__main__":
    main()
