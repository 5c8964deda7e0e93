#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_snapshot_info
short_description: List volume snapshots (openstack volume snapshot list)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the project's snapshots with the fields of C(openstack volume snapshot show).
options:
  name:
    description: Only the snapshot with this name or id.
    type: str
  volume:
    description: Only snapshots of this volume (name or id).
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
  - ministack.cloud.catalog.project
"""

EXAMPLES = r"""
- name: Snapshots of vol1
  ministack.cloud.volume_snapshot_info:
    volume: vol1
  register: snaps
"""

RETURN = r"""
snapshots:
  description: The snapshots, as ministack.cloud.volume_snapshot returns one.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    volume=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("volume_snapshot_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
