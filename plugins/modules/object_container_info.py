#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_container_info
short_description: Show one Swift container or list an account's containers
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - With O(name), the fields of C(openstack container show) (an empty list when it does not exist);
    without, the account's containers as C(openstack container list --long) lists them.
options:
  name:
    description: Container to show.
    type: str
    aliases: [container]
  prefix:
    description: Without O(name), list only containers whose name starts with this.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.object_store
seealso:
  - module: ministack.cloud.object_container
"""

EXAMPLES = r"""
- name: List the containers (openstack container list)
  ministack.cloud.object_container_info:
    auth: "{{ swift_auth }}"
  register: listing

- name: Show one (openstack container show mycontainer)
  ministack.cloud.object_container_info:
    name: mycontainer
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
containers:
  description:
    - With O(name), one element (or none) with the fields of ministack.cloud.object_container's C(container),
      including C(storage_policy) (the policy's name, as C(openstack container show) prints it).
    - Without, one element per container with C(name), C(count) and C(bytes).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "mycontainer", "count": 1, "bytes": 29}]
"""

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str", aliases=["container"]),
    prefix=dict(type="str"),
    **CONNECTION_SPEC,
)


def main():
    controller_only("object_container_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
