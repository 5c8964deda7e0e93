#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_image
short_description: Snapshot a server's disk into a new image (openstack server image create)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Copies the server's root disk, flattened onto its base image, into a new private image with
    C(image_type=snapshot), C(base_image_ref) (the server's image), C(instance_uuid) and C(min_disk) from the
    flavor. A running server is copied live (a libvirt block copy, as nova's live snapshot); a stopped one
    with qemu-img convert.
  - Idempotent by O(name); an image of that name made from this server is returned unchanged; one made from
    anything else fails.
options:
  name:
    description: Name of the new image.
    type: str
    required: true
  server:
    description: Name or ID of the server.
    type: str
    required: true
  timeout:
    description: Seconds the disk copy may take.
    type: int
    default: 600
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
attributes:
  diff_mode:
    support: none
seealso:
  - module: ministack.cloud.server
"""

EXAMPLES = r"""
- name: openstack server image create --name snap1 instance01
  ministack.cloud.server_image:
    name: snap1
    server: instance01
"""

RETURN = r"""
image:
  description: The new image (fields as M(ministack.cloud.image) returns).
  returned: always
  type: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    server=dict(type="str", required=True),
    timeout=dict(type="int", default=600),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_image", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
