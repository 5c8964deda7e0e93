#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_backup
short_description: Create, update, reset or delete a volume backup in the object store
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a backup as C(openstack volume backup create/set/delete) does, in Cinder's chunked Swift format,
    so that a backup can be read from the object store alone (see docs/backup.md).
  - The block host that holds the volume reads it and streams it to the Swift proxy; no volume byte passes
    through the controller. The host needs only python3.
  - A full backup stores one object per 50 MiB; an incremental (O(incremental=true)) stores only the runs of
    32 KiB blocks whose sha256 changed since the volume's latest available backup.
  - An C(in-use) volume needs O(force=true); it is then read through a temporary snapshot, removed afterwards.
  - Quotas C(backups) and C(backup_gigabytes) are checked first, with Cinder's messages.
  - On failure the backup is C(error) with C(fail_reason), and the temporary snapshot and the objects written
    so far are removed. A backup left C(creating) by a killed run is settled the next time it is touched.
options:
  name:
    description: Name (or id) of the backup.
    type: str
    required: true
    aliases: [display_name]
  volume:
    description: Name or id of the volume to back up. Required to create.
    type: str
  description:
    description: Free text.
    type: str
    aliases: [display_description]
  container:
    description: Swift container the objects go to (created when missing).
    type: str
    default: volumebackups
  incremental:
    description: Back up only what changed since the volume's latest available backup (its parent).
    type: bool
    default: false
  force:
    description: Back up the volume even when it is attached (C(in-use)), through a temporary snapshot.
    type: bool
    default: false
  snapshot:
    description: Name or id of a snapshot of O(volume) to back up instead of the volume itself.
    type: str
  metadata:
    description: Properties (key/value strings).
    type: dict
    aliases: [properties]
  compression:
    description:
      - How objects are compressed (Cinder's C(backup_compression_algorithm)). With V(zlib) an object that
        does not get smaller is stored as C(none).
    type: str
    choices: [zlib, none]
    default: zlib
  state:
    description: Whether the backup should exist.
    type: str
    choices: [present, absent]
    default: present
  status:
    description:
      - Reset the backup's status (C(openstack volume backup set --state)), for an admin whose backup is stuck.
        Nothing is copied or removed.
    type: str
    choices: [available, error]
  wait:
    description:
      - Wait for the backup to be C(available). With V(false) the task returns at once with status C(creating);
        a detached controller process does the copy, and M(ministack.cloud.volume_backup_info) shows
        C(progress) and C(bytes_done) meanwhile.
    type: bool
    default: true
  timeout:
    description: Seconds the backup may take before it counts as failed.
    type: int
    default: 3600
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
  - ministack.cloud.backup_store
  - ministack.cloud.catalog.project
seealso:
  - module: ministack.cloud.volume_backup_info
  - module: ministack.cloud.volume_backup_restore
  - module: ministack.cloud.volume_backup_record
"""

EXAMPLES = r"""
- name: openstack volume backup create --name backup1 --force vol1
  ministack.cloud.volume_backup:
    name: backup1
    volume: vol1
    force: true
    auth:
      auth_url: http://127.0.0.1:8080/auth/v1.0
      username: demo:demo
      password: "{{ swift_password }}"

- name: openstack volume backup create --incremental --name backup2 --force vol1 (settings from module_defaults)
  module_defaults:
    group/ministack.cloud.object_store:
      auth: "{{ swift_auth }}"
  ministack.cloud.volume_backup:
    name: backup2
    volume: vol1
    incremental: true
    force: true

- name: openstack volume backup set --state available backup1
  ministack.cloud.volume_backup:
    name: backup1
    status: available

- name: openstack volume backup delete backup2
  ministack.cloud.volume_backup:
    name: backup2
    state: absent
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
backup:
  description: The backup with the fields of C(openstack volume backup show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Backup ID (also in its object names).
      type: str
    name:
      description: Backup name.
      type: str
      sample: backup1
    status:
      description: Cinder's backup status (creating, available, deleting, restoring, error, error_deleting).
      type: str
      sample: available
    fail_reason:
      description: Why the backup is in error.
      type: str
    container:
      description: Swift container.
      type: str
      sample: volumebackups
    object_count:
      description: Number of data objects (21 for a full backup of 1 GiB).
      type: int
      sample: 21
    size:
      description: Size of the volume in GiB.
      type: int
      sample: 1
    is_incremental:
      description: Whether it holds only the changes since its parent.
      type: bool
    has_dependent_backups:
      description: Whether incremental backups depend on it (then it cannot be deleted).
      type: bool
    parent_id:
      description: The backup an incremental is based on.
      type: str
    volume_id:
      description: The volume backed up.
      type: str
    snapshot_id:
      description: The snapshot backed up, if one was named.
      type: str
    availability_zone:
      description: Zone of the volume.
      type: str
    service_metadata:
      description: The object-name prefix C(volume_<volume id>/<UTC timestamp>/az_<zone>_backup_<backup id>).
      type: str
    progress:
      description: Percent copied (while C(creating) or C(restoring)).
      type: int
    bytes_done:
      description: Bytes read from the volume so far.
      type: int
    created_at:
      description: Creation time.
      type: str
    data_timestamp:
      description: Time of the data (the snapshot's, when one was named).
      type: str
    updated_at:
      description: Last change.
      type: str
    description:
      description: Free text.
      type: str
    properties:
      description: The backup's metadata.
      type: dict
    project_id:
      description: The project's ID.
      type: str
    host:
      description: The block host that made the backup (its volume service).
      type: str
    compression:
      description: The compression of the chunks (V(zlib) or V(none)).
      type: str
uploaded_bytes:
  description: Uncompressed bytes this run sent to the object store (an incremental sends only changed blocks).
  returned: when a backup was made with wait
  type: int
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["display_name"]),
    volume=dict(type="str"),
    description=dict(type="str", aliases=["display_description"]),
    container=dict(type="str", default="volumebackups"),
    incremental=dict(type="bool", default=False),
    force=dict(type="bool", default=False),
    snapshot=dict(type="str"),
    metadata=dict(type="dict", aliases=["properties"]),
    compression=dict(type="str", choices=["zlib", "none"], default="zlib"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    status=dict(type="str", choices=["available", "error"]),
    wait=dict(type="bool", default=True),
    project=dict(type="str"),
    **CATALOG_SPEC,
    swift_url=dict(type="str"),
    **{k: v for k, v in CONNECTION_SPEC.items() if k != "timeout"},
    timeout=dict(type="int", default=3600),
)
MODULE_KWARGS: dict = {}


def main():
    controller_only("volume_backup", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
