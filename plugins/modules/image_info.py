#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: List images (openstack image list / show)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the images in the ministack catalog with the fields of C(openstack image show).
options:
  image:
    description: Name or ID of one image. All images when omitted.
    type: str
    aliases: [name]
  filters:
    description: Field values an image must have, for example C(visibility=public) as a dict.
    type: dict
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.image
"""

EXAMPLES = r"""
- name: openstack image list
  ministack.cloud.image_info:
  register: images

- name: Print it as the CLI does
  ansible.builtin.debug:
    msg: "{{ images.images | ministack.cloud.cli_table([['ID', 'id'], ['Name', 'name'], ['Status', 'status']]) }}"
"""

RETURN = r"""
images:
  description: The images, sorted by name (see M(ministack.cloud.image) for the fields).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    image=dict(type="str", aliases=["name"]),
    filters=dict(type="dict"),
    **CATALOG_SPEC,
)


def main():
    controller_only("image_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
