#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume
short_description: Create, extend, update or delete a block storage volume (Cinder's volumes)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a volume as C(openstack volume create/set/delete) does. The volume scheduler picks a block host
    (registered by the C(block_host) role) by availability zone and free capacity; the volume is an LV in
    that host's volume group (LVM backend) or a sparse file (file backend).
  - A volume is found by O(name) (or id) within the project. An existing volume is updated in place;
    a larger O(size) extends it (the volume must be C(available)), a smaller one is refused (volumes never
    shrink). O(description), O(bootable) and O(metadata) change in place. O(volume_type) and
    O(availability_zone) cannot change.
  - Quotas C(volumes), C(gigabytes) and C(per_volume_gigabytes) are checked before anything is made, with
    Cinder's messages. If the host work fails, nothing is left behind (no LV, no file, no catalog row).
options:
  name:
    description: Name (or id) of the volume.
    type: str
    required: true
    aliases: [display_name]
  state:
    description: Whether the volume should exist. A volume that is attached or has snapshots is not deleted.
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Size in GiB. Required to create a volume unless O(snapshot) or O(image) gives it.
      - A larger size extends an existing volume in place.
    type: int
  description:
    description: Free text.
    type: str
    aliases: [display_description]
  volume_type:
    description:
      - Volume type. Types are the block hosts' C(volume_backend_name) (for example C(lvm) or C(file));
        omitted, any backend may hold the volume and the volume shows type C(__DEFAULT__).
    type: str
  availability_zone:
    description: Availability zone of the block host to use. Omitted, any zone.
    type: str
  image:
    description: Name or id of an image (with a C(file://) location) whose bytes the new volume starts with.
    type: str
  snapshot:
    description: Name or id of a snapshot the new volume is made from (on the snapshot's block host).
    type: str
    aliases: [snapshot_id]
  bootable:
    description: Whether the volume is marked bootable. A volume made from an image is bootable unless set.
    type: bool
  metadata:
    description: Properties (key/value strings). When given, these are all the volume's properties.
    type: dict
    aliases: [properties]
  project:
    description: Project (name or id) owning the volume. Omitted, the default project.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.volume_info
  - module: ministack.cloud.server_volume
  - module: ministack.cloud.volume_snapshot
"""

EXAMPLES = r"""
- name: openstack volume create --size 1 vol1
  ministack.cloud.volume:
    name: vol1
    size: 1

- name: Extend vol1 to 2 GiB (openstack volume set --size 2 vol1)
  ministack.cloud.volume:
    name: vol1
    size: 2

- name: A volume made from a snapshot
  ministack.cloud.volume:
    name: vol1-copy
    snapshot: snap1

- name: Delete vol1
  ministack.cloud.volume:
    name: vol1
    state: absent
"""

RETURN = r"""
volume:
  description:
    - The volume as plain data (Cinder's fields, booleans as booleans). The C(ministack.cloud.cli_show) filter
      with C(resource=volume) prints it as C(openstack volume show) does.
    - Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Volume ID.
      type: str
      sample: 86627753-e648-4175-acca-9d27b3458c69
    name:
      description: Volume name.
      type: str
      sample: vol1
    size:
      description: Size in GiB.
      type: int
      sample: 1
    status:
      description: >-
        Cinder's status (creating, available, attaching, in-use, detaching, extending, deleting, error).
        The in-between ones show while another run does the host work.
      type: str
      sample: available
    status_reason:
      description: Why the volume is in C(error) (the failure, or the run that was interrupted); null otherwise.
      type: str
      sample: null
    attachments:
      description: The volume's attachments.
      type: list
      elements: dict
      contains:
        id:
          description: The volume's ID.
          type: str
        attachment_id:
          description: The attachment's ID.
          type: str
        volume_id:
          description: The volume's ID.
          type: str
        server_id:
          description: The server's ID.
          type: str
        server_name:
          description: The server's name (what C(openstack volume list) shows in C(Attached to)).
          type: str
        host_name:
          description: The server's compute host.
          type: str
        device:
          description: The device in the guest.
          type: str
          sample: /dev/vdb
        attached_at:
          description: When it was attached.
          type: str
    availability_zone:
      description: Availability zone of the block host.
      type: str
      sample: nova
    bootable:
      description: Whether the volume can boot a server (C(openstack volume show) prints C(true)/C(false)).
      type: bool
      sample: false
    encrypted:
      description: Always false.
      type: bool
    multiattach:
      description: Always false (multiattach is not supported).
      type: bool
    type:
      description: Volume type.
      type: str
      sample: __DEFAULT__
    properties:
      description: Metadata.
      type: dict
    description:
      description: Free text.
      type: str
    snapshot_id:
      description: Snapshot the volume was made from, or null.
      type: str
    image_id:
      description: Image the volume was made from, or null.
      type: str
    source_volid:
      description: Always null (volume clones are not supported).
      type: str
    consistencygroup_id:
      description: Always null.
      type: str
    migration_status:
      description: Always null.
      type: str
    replication_status:
      description: Always null.
      type: str
    user_id:
      description: Always null (there are no users).
      type: str
    project_id:
      description: The project's ID.
      type: str
    host:
      description: Volume service holding it (C(node@backend)).
      type: str
      sample: localhost@lvm
    created_at:
      description: Creation time.
      type: str
    updated_at:
      description: Last change, or null.
      type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["display_name"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    size=dict(type="int"),
    description=dict(type="str", aliases=["display_description"]),
    volume_type=dict(type="str"),
    availability_zone=dict(type="str"),
    image=dict(type="str"),
    snapshot=dict(type="str", aliases=["snapshot_id"]),
    bootable=dict(type="bool"),
    metadata=dict(type="dict", aliases=["properties"]),
    project=dict(type="str"),
    **CATALOG_SPEC,
)
MODULE_KWARGS = dict(mutually_exclusive=[("image", "snapshot")])


def main():
    controller_only("volume", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
