#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_info
short_description: Show one Swift object or list a container's objects
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - With O(name), the fields of C(openstack object show) (an empty list when the object does not exist);
    without, the container's objects as C(openstack object list --long) lists them.
  - Fails when the container does not exist.
options:
  container:
    description: Container to look in.
    type: str
    required: true
  name:
    description: Object to show.
    type: str
  prefix:
    description: Without O(name), list only objects whose name starts with this.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.object_store
seealso:
  - module: ministack.cloud.object
"""

EXAMPLES = r"""
- name: List a container (openstack object list mycontainer)
  ministack.cloud.object_info:
    container: mycontainer
    auth: "{{ swift_auth }}"
  register: listing

- name: Show one object (openstack object show mycontainer hello.txt)
  ministack.cloud.object_info:
    container: mycontainer
    name: hello.txt
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
objects:
  description:
    - With O(name), one element (or none) with the fields of ministack.cloud.object's C(object).
    - Without, one element per object with C(name), C(bytes), C(hash), C(content_type), C(last_modified).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "hello.txt", "bytes": 13, "hash": "5a4c5d5e0f7ca9a1b87fbb3c7e1b9a5e",
            "content_type": "text/plain", "last_modified": "2026-11-27T00:14:40.063130"}]
"""

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    container=dict(type="str", required=True),
    name=dict(type="str"),
    prefix=dict(type="str"),
    **CONNECTION_SPEC,
)


def main():
    controller_only("object_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
