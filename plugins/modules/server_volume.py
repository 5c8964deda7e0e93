#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_volume
short_description: Attach a volume to a server, or detach it (openstack server add/remove volume)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Attaching exports the volume from its block host as its own iSCSI target
    (C(iqn.2010-10.org.ministack:volume-<id>)) with a freshly generated CHAP user and secret and an ACL
    for the compute host's initiator name and address, stores the CHAP secret in a private libvirt secret
    (usage type iscsi) on the compute host, and hot-plugs a libvirt network disk (protocol iscsi) into the
    server. QEMU's own iSCSI client logs in, so the compute host needs no kernel initiator. The guest sees
    the next free virtio disk (C(/dev/vdb) first).
  - The volume becomes C(in-use) with the attachment; the server lists it in C(volumes_attached).
  - Detaching unplugs the disk, then removes the libvirt secret and the target with its CHAP account.
  - The CHAP secret is kept in the catalog encrypted with C(ministack_secret_key) (set it, ideally from
    Ansible Vault, at least 16 characters); it never appears in results, diffs or logs.
  - If a step fails, the earlier ones are undone (no stray target, secret or disk).
options:
  server:
    description: Name or id of the server.
    type: str
    required: true
  volume:
    description: Name or id of the volume.
    type: str
    required: true
  device:
    description: Device name to ask for, for example C(/dev/vdc). Omitted, the next free one.
    type: str
  state:
    description: C(present) attaches, C(absent) detaches.
    type: str
    choices: [present, absent]
    default: present
  project:
    description: Project (name or id) of the server and volume. Omitted, the default project.
    type: str
notes:
  - Task variables C(ministack_volume_disk_cache) (default C(none)) and C(ministack_volume_disk_io)
    (default C(native)) set the libvirt disk's cache and io modes; docs/block.md has the measurements.
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
  - cryptography >= 41 (CHAP secrets, encrypted with O(secret_key))
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
"""

EXAMPLES = r"""
- name: openstack server add volume instance01 vol1
  ministack.cloud.server_volume:
    server: instance01
    volume: vol1
  register: attached

- name: openstack server remove volume instance01 vol1
  ministack.cloud.server_volume:
    server: instance01
    volume: vol1
    state: absent
"""

RETURN = r"""
attachment:
  description: The attachment as C(openstack server add volume) prints it. Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The volume's ID (the CLI's ID field).
      type: str
    server_id:
      description: Server ID.
      type: str
    volume_id:
      description: Volume ID.
      type: str
    device:
      description: Device name in the guest.
      type: str
      sample: /dev/vdb
    tag:
      description: Device tag (always null here).
      type: str
    delete_on_termination:
      description: Whether the volume goes with the server (always false here).
      type: bool
    attachment_id:
      description: Cinder attachment ID.
      type: str
    host:
      description: The server's compute host.
      type: str
volume:
  description: The volume after the change (status C(in-use) or C(available)), as M(ministack.cloud.volume) returns it.
  returned: always
  type: dict
volumes_attached:
  description: The server's attached volumes after the change, as M(ministack.cloud.server) returns them.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The volume's ID.
      type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True),
    volume=dict(type="str", required=True),
    device=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_volume", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
