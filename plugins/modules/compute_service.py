#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compute_service
short_description: Register a compute host with its capacity, ratios and status
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Registers a KVM host as a compute service (a nova-compute) in the ministack catalog, with the capacity the
    scheduler places servers on, and enables or disables it (C(openstack compute service set --enable/--disable)).
  - Capacity is given (O(vcpus), O(memory_mb), O(local_gb)) or read from the host through libvirt with
    O(discover=true). Allocation ratios and reserved amounts default to Nova's (4.0, 1.0, 1.0; 512 MB reserved).
  - The service is C(up) when the controller reached the host within C(service_down_time) seconds. O(discover=true)
    reaches it now; the server module records each later contact. Reaching a host is not a change.
  - Capacity cannot shrink below what servers already hold on the host, and a host with servers cannot be deleted.
    Deleting a service removes its host from its aggregates (as Nova does).
options:
  host:
    description: The host's name, as aggregates and servers refer to it.
    type: str
    required: true
    aliases: [name]
  state:
    description: Whether the service should be registered.
    type: str
    choices: [present, absent]
    default: present
  vcpus:
    description: Physical CPUs. Required to register a host unless O(discover=true).
    type: int
  memory_mb:
    description: Memory in MB. Required to register a host unless O(discover=true).
    type: int
  local_gb:
    description: Disk for servers in GB. Required to register a host unless O(discover=true).
    type: int
  cpu_allocation_ratio:
    description: Virtual CPUs per physical CPU. C(4.0) when a host is registered without it.
    type: float
  ram_allocation_ratio:
    description: Memory overcommit ratio. C(1.0) when a host is registered without it.
    type: float
  disk_allocation_ratio:
    description: Disk overcommit ratio. C(1.0) when a host is registered without it.
    type: float
  reserved_host_memory_mb:
    description: Memory kept for the host itself. C(512) when a host is registered without it.
    type: int
  reserved_host_disk_mb:
    description: Disk kept for the host itself, in MB. C(0) when a host is registered without it.
    type: int
  reserved_host_cpus:
    description: CPUs kept for the host itself. C(0) when a host is registered without it.
    type: int
  hypervisor_type:
    description: Hypervisor type shown by C(hypervisor list). C(QEMU) when a host is registered without it.
    type: str
  hypervisor_hostname:
    description: Hypervisor host name. The O(host) when a host is registered without it.
    type: str
  host_ip:
    description: The host's address, used for its libvirt URI when O(libvirt_uri) is not given.
    type: str
  libvirt_uri:
    description:
      - libvirt URI the controller uses for this host, for example C(qemu+ssh://stack@10.0.0.11/system).
      - Omitted, it is C(qemu:///system) for C(localhost) and C(qemu+ssh://root@<host_ip or host>/system) otherwise.
    type: str
  capabilities:
    description: Host capabilities for the scheduler's ComputeCapabilitiesFilter (for example C(cpu_info)).
    type: dict
  enabled:
    description: Whether the scheduler may place servers on the host. C(true) when a host is registered without it.
    type: bool
  disabled_reason:
    description: Why the service is disabled. Only with O(enabled=false); enabling clears it.
    type: str
  forced_down:
    description:
      - Mark the service C(down) at once, whatever its last contact (C(openstack compute service set --down));
        C(false) lifts it (C(--up)). Not given, the current value is kept (C(false) for a new service).
      - Use it when a host is known to be gone, so that the scheduler stops choosing it before
        C(service_down_time) runs out and evacuation-style decisions can be made. A forced-down host is
        never C(up), even when the controller reaches it.
    type: bool
  discover:
    description:
      - Reach the host through libvirt now, read the capacity not given as options, and record the contact
        (the service shows C(up)).
      - For a host already registered, the capacity and hypervisor version it reports now are recorded with the
        contact, as nova-compute's periodic update does; like the contact, that is not a change (memory can be
        hot-plugged, a storage pool can grow).
      - In check mode a host whose instances storage pool does not exist yet (the C(ministack.cloud.kvm_host) role
        makes it, a step check mode skips) is predicted with O(local_gb=0).
      - Fails, writing nothing, when the host cannot be reached.
    type: bool
    default: false
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts), for O(discover=true)
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
attributes:
  check_mode:
    support: full
    details: With O(discover=true) the host is still reached (read-only) in check mode.
  diff_mode:
    support: full
    details: The up/down state and the time of the last contact are not part of the diff.
seealso:
  - module: ministack.cloud.compute_service_info
  - module: ministack.cloud.hypervisor_info
"""

EXAMPLES = r"""
- name: Register this machine as a compute host, capacity read through libvirt
  ministack.cloud.compute_service:
    host: localhost
    discover: true

- name: Register a host with explicit capacity and Nova's older ratios
  ministack.cloud.compute_service:
    host: compute2
    host_ip: 10.0.0.12
    vcpus: 8
    memory_mb: 16384
    local_gb: 200
    cpu_allocation_ratio: 16.0
    ram_allocation_ratio: 1.5

- name: Take a host out of scheduling (openstack compute service set --disable --disable-reason ...)
  ministack.cloud.compute_service:
    host: compute2
    enabled: false
    disabled_reason: disk replacement

- name: A host is known to be gone (openstack compute service set --down compute2 nova-compute)
  ministack.cloud.compute_service:
    host: compute2
    forced_down: true
"""

RETURN = r"""
compute_service:
  description:
    - The service, with the columns of C(openstack compute service list) first, then its capacity and settings.
      Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Service ID.
      type: str
      sample: 6deb28a3-1d51-4d4f-ac4c-d2c53604743a
    binary:
      description: Always C(nova-compute).
      type: str
      sample: nova-compute
    host:
      description: Host name.
      type: str
      sample: localhost
    zone:
      description: Availability zone of the host (from its aggregates; C(nova) when none).
      type: str
      sample: nova
    status:
      description: C(enabled) or C(disabled).
      type: str
      sample: enabled
    state:
      description: C(up) or C(down).
      type: str
      sample: up
    updated_at:
      description: When the controller last reached the host, UTC, or null.
      type: str
      sample: "2025-01-15T06:12:05.000000"
    disabled_reason:
      description: Why it is disabled, or null.
      type: str
      sample: null
    is_forced_down:
      description: Whether it is forced down.
      type: bool
      sample: false
    enabled:
      description: Same as RV(compute_service.status) as a boolean.
      type: bool
      sample: true
    vcpus:
      description: Physical CPUs.
      type: int
      sample: 2
    memory_mb:
      description: Memory in MB.
      type: int
      sample: 7954
    local_gb:
      description: Disk in GB.
      type: int
      sample: 40
    cpu_allocation_ratio:
      description: CPU allocation ratio.
      type: float
      sample: 4.0
    ram_allocation_ratio:
      description: RAM allocation ratio.
      type: float
      sample: 1.0
    disk_allocation_ratio:
      description: Disk allocation ratio.
      type: float
      sample: 1.0
    reserved_host_memory_mb:
      description: Reserved memory in MB.
      type: int
      sample: 512
    reserved_host_disk_mb:
      description: Reserved disk in MB.
      type: int
      sample: 0
    reserved_host_cpus:
      description: Reserved CPUs.
      type: int
      sample: 0
    hypervisor_type:
      description: Hypervisor type.
      type: str
      sample: QEMU
    hypervisor_hostname:
      description: Hypervisor host name.
      type: str
      sample: localhost
    hypervisor_version:
      description: libvirt's hypervisor version number, when discovered.
      type: int
      sample: 7002000
    host_ip:
      description: Host address, or null.
      type: str
      sample: 10.0.0.12
    libvirt_uri:
      description: libvirt URI, or null.
      type: str
      sample: qemu:///system
    capabilities:
      description: Capabilities for the scheduler.
      type: dict
      sample: {}
    created_at:
      description: Registration time, UTC.
      type: str
      sample: "2025-01-15T06:12:05.000000"
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True, aliases=["name"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    vcpus=dict(type="int"),
    memory_mb=dict(type="int"),
    local_gb=dict(type="int"),
    cpu_allocation_ratio=dict(type="float"),
    ram_allocation_ratio=dict(type="float"),
    disk_allocation_ratio=dict(type="float"),
    reserved_host_memory_mb=dict(type="int"),
    reserved_host_disk_mb=dict(type="int"),
    reserved_host_cpus=dict(type="int"),
    hypervisor_type=dict(type="str"),
    hypervisor_hostname=dict(type="str"),
    host_ip=dict(type="str"),
    libvirt_uri=dict(type="str"),
    capabilities=dict(type="dict"),
    enabled=dict(type="bool"),
    disabled_reason=dict(type="str"),
    forced_down=dict(type="bool"),
    discover=dict(type="bool", default=False),
    **CATALOG_SPEC,
)


def main():
    controller_only("compute_service", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
