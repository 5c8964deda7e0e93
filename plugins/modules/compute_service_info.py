#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compute_service_info
short_description: List compute services
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists compute services as C(openstack compute service list) does (ID, Binary, Host, Zone, Status, State,
    Updated At).
  - The nova-conductor and nova-scheduler rows are the controller itself (zone C(internal), always up while a
    playbook runs); the nova-compute rows are the registered hosts.
  - No agent runs on a host, so the controller takes nova-compute's heartbeat itself. A host is C(up) while
    the controller reached it within O(service_down_time); with O(probe) (the default) every enabled host not
    reached in the last 20 seconds is reached first, all in parallel and 5 seconds at most, so a host whose
    libvirtd answers lists C(up) and one that does not lists C(down) once O(service_down_time) has passed.
options:
  binary:
    description: Only services with this binary, for example C(nova-compute).
    type: str
  host:
    description: Only services on this host.
    type: str
extends_documentation_fragment:
  - ministack.cloud.compute_heartbeat
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.compute_service
"""

EXAMPLES = r"""
- name: List compute services
  ministack.cloud.compute_service_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.compute_services | ministack.cloud.cli_table(['id', 'binary', 'host', 'zone', 'status', 'state', 'updated_at']) }}"
"""

RETURN = r"""
compute_services:
  description:
    - The services. nova-compute entries carry every field of M(ministack.cloud.compute_service)'s result.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 6deb28a3-1d51-4d4f-ac4c-d2c53604743a
      binary: nova-compute
      host: localhost
      zone: nova
      status: enabled
      state: up
      updated_at: "2025-01-15T06:12:05.000000"
      disabled_reason: null
      is_forced_down: false
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    binary=dict(type="str"),
    host=dict(type="str"),
    probe=dict(type="bool", default=True),
    service_down_time=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("compute_service_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
