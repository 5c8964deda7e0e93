#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_backup_info
short_description: List or show volume backups
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - C(openstack volume backup list) and C(openstack volume backup show). While a backup is C(creating) or
    C(restoring) its C(progress) (percent) and C(bytes_done) show how far the copy is.
  - A backup left C(creating) by a run that is gone is settled first (C(error), leftovers removed when the
    object store settings are given).
options:
  name:
    description: Name or id of one backup.
    type: str
    aliases: [backup]
  volume:
    description: Only the backups of this volume (name or id).
    type: str
  status:
    description: Only backups in this status.
    type: str
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
- name: openstack volume backup list
  ministack.cloud.volume_backup_info:
  register: backups

- name: openstack volume backup show backup1
  ministack.cloud.volume_backup_info:
    name: backup1
  register: backup1
"""

RETURN = r"""
backups:
  description:
    - The backups, each with the fields of C(openstack volume backup show) (see M(ministack.cloud.volume_backup)).
    - The C(ministack.cloud.cli_table) filter with C(resource=backup) prints them as C(openstack volume backup list)
      does (columns C(ID), C(Name), C(Description), C(Status), C(Size), C(Incremental)).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str", aliases=["backup"]),
    volume=dict(type="str"),
    status=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
    swift_url=dict(type="str"),
    **{k: v for k, v in CONNECTION_SPEC.items() if k != "timeout"},
)


def main():
    controller_only("volume_backup_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
