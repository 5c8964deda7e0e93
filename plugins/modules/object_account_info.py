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
  - ministack.cloud.controller.info
  - ministack.cloud.object_store
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

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(**CONNECTION_SPEC)


def main():
    controller_only("object_account_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
