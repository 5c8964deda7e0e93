#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image
short_description: Register or delete an image (Glance's role)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Registers a qcow2 or raw file on the controller as an image in the ministack catalog, as
    C(openstack image create --file) does, and deletes images.
  - The image's bytes are copied into the controller's image store (the variable C(ministack_image_store),
    else C(images/) beside a SQLite catalog). Each KVM host copies an image once into its image cache
    (keyed by the MD5 checksum) and builds copy-on-write disks on it.
  - Computes C(checksum) (MD5), C(os_hash_algo) C(sha512) with C(os_hash_value), C(size) and
    C(virtual_size) (C(qemu-img info)), as Glance does. The file's real format must match O(disk_format).
  - Image data is immutable, as in Glance. Registering an existing name with a file whose checksum
    differs, or with another O(disk_format), fails instead of being ignored. O(min_disk), O(min_ram),
    O(visibility), O(protected), O(properties) and O(tags) are updated in place.
options:
  name:
    description: Name of the image. An image is found by O(id) when given, else by name.
    type: str
    required: true
  id:
    description: ID of an existing image to manage.
    type: str
  filename:
    description: Path of the image file on the controller. Required to create an image.
    type: path
  disk_format:
    description: Format of the file.
    type: str
    choices: [qcow2, raw]
    default: qcow2
  container_format:
    description:
      - Container format. C(bare) for a disk image (QEMU/KVM).
      - C(compressed) for a root filesystem tarball (Glance's name for an archive), the image of an LXC
        server; give it O(disk_format=raw) and the property C(hypervisor_type=lxc) so that it is scheduled
        only to LXC hosts (an image without C(hypervisor_type) is a QEMU disk image).
    type: str
    choices: [bare, compressed]
    default: bare
  min_disk:
    description: Minimum root disk in GiB a flavor needs to boot the image.
    type: int
  min_ram:
    description: Minimum memory in MiB a flavor needs to boot the image.
    type: int
  visibility:
    description: Who may see the image. C(shared) when an image is created without it.
    type: str
    choices: [public, private, shared, community]
  protected:
    description: A protected image cannot be deleted.
    type: bool
    aliases: [is_protected]
  properties:
    description: Image properties (C(hw_*), C(os_distro), ...). Keys given are set; other keys are kept.
    type: dict
  tags:
    description: The image's tags (the full list when given).
    type: list
    elements: str
  project:
    description: Owner project (name or ID). The default project when omitted.
    type: str
  state:
    description: Whether the image should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
notes:
  - An object store backend for image bytes is not implemented yet; images live in the controller directory.
seealso:
  - module: ministack.cloud.image_info
  - module: ministack.cloud.server_image
"""

EXAMPLES = r"""
- name: Register the test image as cirros6 (openstack image create --file ... cirros6)
  ministack.cloud.image:
    name: cirros6
    filename: "{{ playbook_dir }}/../.cache/images/ministack-test.qcow2"
    disk_format: qcow2
    visibility: public

- name: Register a root filesystem tarball for LXC hosts
  ministack.cloud.image:
    name: alpine-rootfs
    filename: /srv/images/rootfs.tar.gz
    disk_format: raw
    container_format: compressed
    properties:
      hypervisor_type: lxc

- name: Protect it
  ministack.cloud.image:
    name: cirros6
    protected: true
"""

RETURN = r"""
image:
  description: The image with the fields of C(openstack image show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Image ID.
      type: str
      sample: be315e95-ca18-46b4-8ca2-afb6738c7129
    name:
      description: Image name.
      type: str
      sample: cirros6
    status:
      description: Always C(active) for a registered image.
      type: str
      sample: active
    checksum:
      description: MD5 of the bytes.
      type: str
      sample: c8fc807773e5354afe61636071771906
    os_hash_algo:
      description: Hash algorithm of os_hash_value.
      type: str
      sample: sha512
    os_hash_value:
      description: SHA-512 of the bytes.
      type: str
    disk_format:
      description: qcow2 or raw.
      type: str
      sample: qcow2
    container_format:
      description: bare.
      type: str
      sample: bare
    size:
      description: Bytes stored.
      type: int
      sample: 21430272
    virtual_size:
      description: Size of the disk the image describes, in bytes.
      type: int
      sample: 117440512
    min_disk:
      description: Minimum disk in GiB.
      type: int
      sample: 0
    min_ram:
      description: Minimum memory in MiB.
      type: int
      sample: 0
    owner:
      description: Owner project ID.
      type: str
    properties:
      description: Properties including os_hash_algo, os_hash_value, os_hidden and stores.
      type: dict
    protected:
      description: Whether it is protected.
      type: bool
      sample: false
    tags:
      description: Tags.
      type: list
      elements: str
      sample: []
    visibility:
      description: Visibility.
      type: str
      sample: public
    project_id:
      description: The owner project's ID (the same as C(owner)).
      type: str
    is_protected:
      description: The same as C(protected) (openstacksdk's name).
      type: bool
    schema:
      description: Always V(/v2/schemas/image).
      type: str
    location:
      description: Where the bytes are, a V(file://) URL on the controller.
      type: str
    file:
      description: The image's data path in Glance's API form.
      type: str
    created_at:
      description: Creation time, UTC.
      type: str
    updated_at:
      description: Last update time, UTC.
      type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    id=dict(type="str"),
    filename=dict(type="path"),
    disk_format=dict(type="str", choices=["qcow2", "raw"], default="qcow2"),
    container_format=dict(type="str", choices=["bare", "compressed"], default="bare"),
    min_disk=dict(type="int"),
    min_ram=dict(type="int"),
    visibility=dict(type="str", choices=["public", "private", "shared", "community"]),
    protected=dict(type="bool", aliases=["is_protected"]),
    properties=dict(type="dict"),
    tags=dict(type="list", elements="str"),
    project=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    **CATALOG_SPEC,
)


def main():
    controller_only("image", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
