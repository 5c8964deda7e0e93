#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_backup_record
short_description: Export a backup's record, or import one into this catalog
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - With O(backup), this is C(openstack volume backup record export). It returns C(backup_service) and
    C(backup_url) (a base64 string of the backup's record) and changes nothing.
  - With O(backup_service) and O(backup_url), this is C(openstack volume backup record import). The backup
    appears, C(available), in this catalog (another cloud's, for example) and restores from the same object store.
    Importing a record whose backup id is already there changes nothing. An incremental needs its parent's
    record imported too.
options:
  backup:
    description: Name or id of the backup to export.
    type: str
  backup_service:
    description: The C(backup_service) of an export (C(cinder.backup.drivers.swift.SwiftBackupDriver)).
    type: str
  backup_url:
    description: The C(backup_url) of an export.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
  - ministack.cloud.catalog.project
attributes:
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: openstack volume backup record export backup1
  ministack.cloud.volume_backup_record:
    backup: backup1
  register: exported

- name: openstack volume backup record import (into another catalog)
  ministack.cloud.volume_backup_record:
    backup_service: "{{ exported.backup_service }}"
    backup_url: "{{ exported.backup_url }}"
  vars:
    ministack_catalog: sqlite:////srv/other-cloud/catalog.db
"""

RETURN = r"""
backup:
  description: The backup with the fields of C(openstack volume backup show).
  returned: always
  type: dict
backup_service:
  description: The driver that wrote the backup.
  returned: on export
  type: str
  sample: cinder.backup.drivers.swift.SwiftBackupDriver
backup_url:
  description: The record, for an import.
  returned: on export
  type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    backup=dict(type="str"),
    backup_service=dict(type="str"),
    backup_url=dict(type="str", no_log=False),
    project=dict(type="str"),
    **CATALOG_SPEC,
)
MODULE_KWARGS = dict(
    required_one_of=[("backup", "backup_url")],
    mutually_exclusive=[("backup", "backup_url")],
    required_together=[("backup_service", "backup_url")],
)


def main():
    controller_only("volume_backup_record", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
