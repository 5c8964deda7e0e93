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
  project:
    description: Project (name or id). Omitted, the default project.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ministack.cloud.catalog
attributes:
  check_mode:
    support: full
    details: This module only reads the catalog.
  diff_mode:
    support: none
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    volume=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="ministack.cloud.volume_snapshot_info runs on the controller as an action plugin; it cannot run as a module.")


if __name__ == "__main__":
    main()
