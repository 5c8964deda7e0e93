#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: availability_zone_info
short_description: List availability zones with their hosts and services
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists availability zones as C(openstack availability zone list --long) does.
  - Compute zones come from aggregates with an availability zone; compute hosts in none are in C(nova).
    Volume zones come from the volume services.
  - A zone is C(available) when at least one service in it is enabled (Nova's rule). A service is
    available (up) when the controller reached its host recently.
options:
  name:
    description: Only the zone with this name.
    type: str
  kind:
    description: Which zones to list.
    type: list
    elements: str
    choices: [compute, volume]
    default: [compute, volume]
  service_down_time:
    description:
      - Seconds since the controller last reached a host after which its services count as down.
      - Defaults to the environment variable C(MINISTACK_SERVICE_DOWN_TIME), else 60 (Nova's default).
    type: int
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.aggregate
"""

EXAMPLES = r"""
- name: List compute zones
  ministack.cloud.availability_zone_info:
    kind: [compute]
  register: result

- name: Zone names and states
  ansible.builtin.debug:
    msg: "{{ result.availability_zones | ministack.cloud.cli_table(['name', 'state', 'resource']) }}"
"""

RETURN = r"""
availability_zones:
  description: The zones, sorted by kind then name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Zone name.
      type: str
      sample: az1
    resource:
      description: C(compute) or C(volume).
      type: str
      sample: compute
    state:
      description: C(available) or C(not available).
      type: str
      sample: available
    hosts:
      description: Host name to service binary to C(available) (up), C(active) (enabled) and C(updated_at).
      type: dict
      sample: {"compute1": {"nova-compute": {"available": true, "active": true, "updated_at": "2025-01-15T06:12:05.000000"}}}
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    kind=dict(type="list", elements="str", choices=["compute", "volume"], default=["compute", "volume"]),
    service_down_time=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("availability_zone_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
