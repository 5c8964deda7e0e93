#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_backup_restore
short_description: Restore a volume backup into a new or an existing volume
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - C(openstack volume backup restore <backup> <volume>). When O(volume) names no volume, a new one of the
    backup's size is created with that name; otherwise the volume must be C(available) and at least as big.
  - An incremental backup is restored with its chain (the full backup first, then each incremental).
  - The block host that holds the target reads the objects from the Swift proxy and writes them in place.
    Beyond Cinder, every object's md5 is checked; a mismatch fails the restore naming the object and leaves
    the volume C(error_restoring). As Cinder, the restore aborts when the objects listed in the store differ
    from the metadata's list.
  - Every metadata object of the chain is checked before anything is created or changed.
  - Once a backup has been restored into a volume, running the task again changes nothing.
options:
  backup:
    description: Name or id of the backup to restore.
    type: str
    required: true
  volume:
    description: Name or id of the volume to restore into; a new volume is created when none has that name.
    type: str
    required: true
  timeout:
    description: Seconds the restore may take.
    type: int
    default: 3600
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
  - ministack.cloud.backup_store
  - ministack.cloud.catalog.project
attributes:
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: openstack volume backup restore backup2 vol1-restored
  ministack.cloud.volume_backup_restore:
    backup: backup2
    volume: vol1-restored
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
restore:
  description: What was restored where (C(backup_id), C(volume_id), C(volume_name)).
  returned: always
  type: dict
volume:
  description: The target volume with the fields of C(openstack volume show).
  returned: always
  type: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    backup=dict(type="str", required=True),
    volume=dict(type="str", required=True),
    project=dict(type="str"),
    **CATALOG_SPEC,
    swift_url=dict(type="str"),
    **{k: v for k, v in CONNECTION_SPEC.items() if k != "timeout"},
    timeout=dict(type="int", default=3600),
)


def main():
    controller_only("volume_backup_restore", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
