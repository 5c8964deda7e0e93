#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: quota
short_description: Set the quota limits of a project
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Sets per-project limits in the ministack catalog, as C(openstack quota set) does, with the resources and
    defaults of Nova and Cinder. Creating a server, volume, keypair or server group beyond a limit fails with
    Nova's or Cinder's message.
  - Limits not given are left as they are. C(-1) means unlimited.
  - A limit below what the project already uses is refused (Nova's rule).
  - O(state=absent) brings every limit of the project back to the default; it reports a change only if some
    limit differed from its default.
options:
  name:
    description: Name or ID of the project; the default project (C(admin)) when omitted.
    type: str
  state:
    description: C(present) sets the given limits; C(absent) resets all limits to the defaults.
    type: str
    choices: [present, absent]
    default: present
  instances:
    description: Servers (Nova; default 10).
    type: int
  cores:
    description: Virtual CPUs of all servers (Nova; default 20).
    type: int
  ram:
    description: Memory of all servers in MiB (Nova; default 51200).
    type: int
  key_pairs:
    description: Keypairs (Nova; default 100).
    type: int
  server_groups:
    description: Server groups (Nova; default 10).
    type: int
  server_group_members:
    description: Servers in one server group (Nova; default 10).
    type: int
  metadata_items:
    description: Metadata items per server (Nova; default 128).
    type: int
  volumes:
    description: Volumes (Cinder; default 10).
    type: int
  snapshots:
    description: Volume snapshots (Cinder; default 10).
    type: int
  gigabytes:
    description: GiB of all volumes and snapshots (Cinder; default 1000).
    type: int
  backups:
    description: Volume backups (Cinder; default 10).
    type: int
  backup_gigabytes:
    description: GiB of all backups (Cinder; default 1000).
    type: int
  per_volume_gigabytes:
    description: Largest size of one volume in GiB (Cinder; default -1).
    type: int
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.quota_info
"""

EXAMPLES = r"""
- name: Limit the default project (openstack quota set --instances 20 --cores 40 --volumes 20 admin)
  ministack.cloud.quota:
    name: admin
    instances: 20
    cores: 40
    volumes: 20
    gigabytes: 500

- name: Back to the defaults
  ministack.cloud.quota:
    name: admin
    state: absent
"""

RETURN = r"""
quotas:
  description: Every limit of the project after the task (C(openstack quota show)).
  returned: always
  type: dict
  contains:
    project:
      description: Project name.
      type: str
      sample: admin
    project_id:
      description: Project ID.
      type: str
      sample: 5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7
    instances:
      description: Limit of instances (-1 is unlimited).
      type: int
      sample: 10
    cores:
      description: Limit of cores (-1 is unlimited).
      type: int
      sample: 20
    ram:
      description: Limit of ram (-1 is unlimited).
      type: int
      sample: 51200
    key_pairs:
      description: Limit of key_pairs (-1 is unlimited).
      type: int
      sample: 100
    server_groups:
      description: Limit of server_groups (-1 is unlimited).
      type: int
      sample: 10
    server_group_members:
      description: Limit of server_group_members (-1 is unlimited).
      type: int
      sample: 10
    metadata_items:
      description: Limit of metadata_items (-1 is unlimited).
      type: int
      sample: 128
    volumes:
      description: Limit of volumes (-1 is unlimited).
      type: int
      sample: 10
    snapshots:
      description: Limit of snapshots (-1 is unlimited).
      type: int
      sample: 10
    gigabytes:
      description: Limit of gigabytes (-1 is unlimited).
      type: int
      sample: 1000
    backups:
      description: Limit of backups (-1 is unlimited).
      type: int
      sample: 10
    backup_gigabytes:
      description: Limit of backup_gigabytes (-1 is unlimited).
      type: int
      sample: 1000
    per_volume_gigabytes:
      description: Limit of per_volume_gigabytes (-1 is unlimited).
      type: int
      sample: -1
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    instances=dict(type="int"),
    cores=dict(type="int"),
    ram=dict(type="int"),
    key_pairs=dict(type="int", no_log=False),
    server_groups=dict(type="int"),
    server_group_members=dict(type="int"),
    metadata_items=dict(type="int"),
    volumes=dict(type="int"),
    snapshots=dict(type="int"),
    gigabytes=dict(type="int"),
    backups=dict(type="int"),
    backup_gigabytes=dict(type="int"),
    per_volume_gigabytes=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("quota", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
