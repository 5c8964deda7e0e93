#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_service_info
short_description: List volume services (openstack volume service list)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the registered block hosts' C(cinder-volume) services with their capacity, and C(table), the
    rows of C(openstack volume service list) (Binary, Host, Zone, Status, State, Updated At).
  - No agent runs on a block host, so the controller takes cinder-volume's heartbeat itself. A service is C(up)
    while the controller reached its host within service_down_time (60 seconds, C(MINISTACK_SERVICE_DOWN_TIME));
    with O(probe) (the default) every enabled backend not reached in the last 20 seconds is measured first, all
    in parallel and 15 seconds at most, so a block host that answers lists C(up) and one that does not lists
    C(down) once service_down_time has passed.
options:
  host:
    description: Only this service (C(node@backend)).
    type: str
  probe:
    description:
      - Measure the enabled backends not reached in the last 20 seconds before listing, and record the capacity
        and contact of those that answer (cinder-volume's heartbeat). In check mode no host is reached and the
        listing shows what is recorded.
      - V(false) lists what is recorded, without reaching any host.
    type: bool
    default: true
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
"""

EXAMPLES = r"""
- name: openstack volume service list
  ministack.cloud.volume_service_info:
  register: services
"""

RETURN = r"""
services:
  description:
    - The C(cinder-volume) services, each as M(ministack.cloud.volume_service) returns one.
    - C(services + backup_services) through the C(ministack.cloud.cli_table) filter with C(resource=volume_service)
      print C(openstack volume service list).
  returned: always
  type: list
  elements: dict
backup_services:
  description:
    - The C(cinder-backup) services, one per block host (named by its node, without C(@backend)), which run the
      backups of that host's volumes (see M(ministack.cloud.volume_backup)).
  returned: always
  type: list
  elements: dict
  contains:
    binary:
      description: V(cinder-backup).
      type: str
    host:
      description: The block host's node name.
      type: str
    zone:
      description: Its availability zone.
      type: str
    status:
      description: V(enabled) or V(disabled), as its cinder-volume service.
      type: str
    state:
      description: V(up) or V(down), as its cinder-volume service.
      type: str
    updated_at:
      description: Its cinder-volume service's last contact.
      type: str
    disabled_reason:
      description: Always null.
      type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    host=dict(type="str"),
    probe=dict(type="bool", default=True),
    **CATALOG_SPEC,
)


def main():
    controller_only("volume_service_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
