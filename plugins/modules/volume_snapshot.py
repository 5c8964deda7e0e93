#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot
short_description: Create, update or delete a volume snapshot
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a snapshot as C(openstack volume snapshot create/set/delete) does. On the LVM backend it is
    an LVM snapshot (thin in a thin pool, a copy-on-write snapshot of O(volume)'s size otherwise); on the
    file backend a C(cp --reflink=auto --sparse=always) copy (copy-on-write where the filesystem has
    reflinks, a sparse full copy elsewhere).
  - An C(in-use) volume needs O(force=true); the snapshot is then crash-consistent, as with Cinder.
  - Quotas C(snapshots) and C(gigabytes) are checked first, with Cinder's messages.
options:
  name:
    description: Name (or id) of the snapshot.
    type: str
    required: true
    aliases: [display_name]
  volume:
    description: Name or id of the volume to snapshot. Required to create.
    type: str
  state:
    description: Whether the snapshot should exist.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: Snapshot the volume even when it is attached (C(in-use)).
    type: bool
    default: false
  description:
    description: Free text.
    type: str
    aliases: [display_description]
  metadata:
    description: Properties (key/value strings).
    type: dict
    aliases: [properties]
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
  - ministack.cloud.catalog.project
"""

EXAMPLES = r"""
- name: openstack volume snapshot create --volume vol1 --force snap1
  ministack.cloud.volume_snapshot:
    name: snap1
    volume: vol1
    force: true
"""

RETURN = r"""
snapshot:
  description: The snapshot with the fields of C(openstack volume snapshot show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Snapshot ID.
      type: str
    name:
      description: Snapshot name.
      type: str
      sample: snap1
    size:
      description: Size in GiB (the volume's).
      type: int
      sample: 1
    status:
      description: Cinder's snapshot status.
      type: str
      sample: available
    status_reason:
      description: Why the snapshot is in C(error); null otherwise.
      type: str
      sample: null
    volume_id:
      description: The volume it was taken from.
      type: str
    description:
      description: Free text.
      type: str
    properties:
      description: Metadata.
      type: dict
    created_at:
      description: Creation time.
      type: str
    updated_at:
      description: Last change.
      type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["display_name"]),
    volume=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    force=dict(type="bool", default=False),
    description=dict(type="str", aliases=["display_description"]),
    metadata=dict(type="dict", aliases=["properties"]),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("volume_snapshot", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
