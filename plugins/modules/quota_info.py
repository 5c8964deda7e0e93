#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: quota_info
short_description: Show the quota limits and usage of a project
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Shows a project's limits and what it uses now (C(openstack quota show) and C(openstack quota list --detail)).
options:
  name:
    description: Name or ID of the project; the default project (C(admin)) when omitted.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.quota
"""

EXAMPLES = r"""
- name: Show the default project's quotas
  ministack.cloud.quota_info:
  register: result

- name: How many more servers fit
  ansible.builtin.debug:
    msg: "{{ result.quotas.instances - result.usage.instances }}"
"""

RETURN = r"""
quotas:
  description: Every limit of the project, as M(ministack.cloud.quota) returns them (-1 is unlimited).
  returned: always
  type: dict
  sample: {"project": "admin", "project_id": "5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7", "instances": 10, "cores": 20,
           "ram": 51200, "key_pairs": 100, "server_groups": 10, "server_group_members": 10, "metadata_items": 128,
           "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000,
           "per_volume_gigabytes": -1}
usage:
  description:
    - What the project uses now, per resource. C(gigabytes) counts volumes and snapshots, as Cinder does;
      C(server_group_members) is the fullest group's member count.
  returned: always
  type: dict
  sample: {"instances": 1, "cores": 1, "ram": 256, "key_pairs": 1, "server_groups": 0, "server_group_members": 0,
           "metadata_items": 0, "volumes": 1, "snapshots": 0, "gigabytes": 1, "backups": 0, "backup_gigabytes": 0,
           "per_volume_gigabytes": 0}
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("quota_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
