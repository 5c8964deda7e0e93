#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_info
short_description: List volumes (openstack volume list / show)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the project's volumes with the fields of C(openstack volume show), and C(table), the rows of
    C(openstack volume list) (ID, Name, Status, Size, Attached to) for printing.
options:
  name:
    description: Only the volume with this name or id.
    type: str
  status:
    description: Only volumes in this status.
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
- name: openstack volume list
  ministack.cloud.volume_info:
  register: volumes

- name: Print it as the CLI does
  ansible.builtin.debug:
    msg: "{{ volumes.table | ministack.cloud.cli_table(['ID', 'Name', 'Status', 'Size', 'Attached to']) }}"
"""

RETURN = r"""
volumes:
  description:
    - The volumes, each as M(ministack.cloud.volume) returns it.
    - The C(ministack.cloud.cli_table) filter with C(resource=volume) prints them as C(openstack volume list)
      does (columns C(ID), C(Name), C(Status), C(Size), C(Attached to)).
  returned: always
  type: list
  elements: dict
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    status=dict(type="str"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="ministack.cloud.volume_info runs on the controller as an action plugin; it cannot run as a module.")


if __name__ == "__main__":
    main()
