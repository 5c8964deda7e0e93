#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hypervisor_info
short_description: List hypervisors with their capacity and usage
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Lists hypervisors as C(openstack hypervisor list/show) and C(hypervisor stats show) do.
  - C(memory_mb_used) and C(local_gb_used) include the reserved amounts, as Nova reports them; C(vcpus_used) is
    what servers hold.
  - C(state) is C(up) while the controller reached the host within O(service_down_time). With O(probe) (the
    default) every enabled host not reached in the last 20 seconds is reached first, as
    M(ministack.cloud.compute_service_info) does, so both listings agree.
options:
  name:
    description: Only the hypervisor with this hypervisor host name or service host.
    type: str
extends_documentation_fragment:
  - ministack.cloud.compute_heartbeat
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.compute_service
"""

EXAMPLES = r"""
- name: List hypervisors
  ministack.cloud.hypervisor_info:
  register: result

- name: Print them as the CLI does
  ansible.builtin.debug:
    msg: "{{ result.hypervisors | ministack.cloud.cli_table(['id', 'hypervisor_hostname', 'hypervisor_type', 'host_ip', 'state']) }}"
"""

RETURN = r"""
hypervisors:
  description: The hypervisors, sorted by service host.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 6deb28a3-1d51-4d4f-ac4c-d2c53604743a
      name: localhost
      hypervisor_hostname: localhost
      hypervisor_type: QEMU
      hypervisor_version: 7002000
      host_ip: null
      state: up
      status: enabled
      service: {"host": "localhost", "id": "6deb28a3-1d51-4d4f-ac4c-d2c53604743a", "disabled_reason": null}
      availability_zone: nova
      aggregates: []
      vcpus: 2
      vcpus_used: 1
      memory_mb: 7954
      memory_mb_used: 768
      free_ram_mb: 7186
      local_gb: 40
      local_gb_used: 2
      free_disk_gb: 38
      running_vms: 1
      current_workload: 0
      cpu_allocation_ratio: 4.0
      ram_allocation_ratio: 1.0
      disk_allocation_ratio: 1.0
      reserved_host_memory_mb: 512
      reserved_host_disk_mb: 0
      reserved_host_cpus: 0
      capabilities: {}
      updated_at: "2025-01-15T06:12:05.000000"
statistics:
  description: Totals over the listed hypervisors (C(openstack hypervisor stats show)).
  returned: always
  type: dict
  sample: {"count": 1, "vcpus": 2, "vcpus_used": 1, "memory_mb": 7954, "memory_mb_used": 768, "free_ram_mb": 7186,
           "local_gb": 40, "local_gb_used": 2, "free_disk_gb": 38, "running_vms": 1, "current_workload": 0}
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    probe=dict(type="bool", default=True),
    service_down_time=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("hypervisor_info", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
