#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_action
short_description: Start, stop, reboot, pause, unpause, suspend or resume a server
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Changes a server's power state as C(openstack server start/stop/reboot/pause/unpause/suspend/resume)
    does, waits for the domain and records Nova's vm_state, status and power_state.
  - C(stop) shuts the guest down cleanly (ACPI) and powers it off after O(timeout) seconds if it does not
    stop. C(suspend) saves the guest's memory to disk (libvirt managed save); C(resume) restores it.
  - Idempotent, except reboots, which always change; an action not allowed in the server's state fails with
    Nova's message ("Cannot 'pause' instance ... while it is in vm_state stopped").
options:
  server:
    description: Name or ID of the server.
    type: str
    required: true
    aliases: [name]
  action:
    description: What to do.
    type: str
    required: true
    choices: [start, stop, reboot_soft, reboot_hard, pause, unpause, suspend, resume]
  timeout:
    description: Seconds to wait for the guest.
    type: int
    default: 180
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ministack.cloud.catalog
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: ministack.cloud.server
"""

EXAMPLES = r"""
- name: openstack server stop instance01
  ministack.cloud.server_action:
    server: instance01
    action: stop

- name: openstack server reboot --hard instance01
  ministack.cloud.server_action:
    server: instance01
    action: reboot_hard
"""

RETURN = r"""
server:
  description:
    - The server after the action, as M(ministack.cloud.server) returns it (plain data; the
      C(ministack.cloud.cli_show) filter with C(resource=server) prints C(openstack server show)).
  returned: always
  type: dict
  contains:
    id:
      description: The server's UUID (also its libvirt domain's UUID).
      type: str
    name:
      description: The server's name.
      type: str
    status:
      description: Nova's status, such as V(ACTIVE), V(BUILD), V(SHUTOFF), V(ERROR).
      type: str
    vm_state:
      description: Nova's vm_state, such as V(active), V(building), V(stopped), V(error).
      type: str
    task_state:
      description: Nova's task_state while something runs (V(scheduling), V(spawning), V(deleting), ...), else null.
      type: str
    power_state:
      description: The guest's power state by name, V(NOSTATE), V(Running), V(Paused), V(Shutdown), V(Crashed) or V(Suspended).
      type: str
    project_id:
      description: The project's ID.
      type: str
    user_id:
      description: Always null (there are no users).
      type: str
    host:
      description: The compute host (its compute service's host name); null before scheduling.
      type: str
    hypervisor_hostname:
      description: The hypervisor's node name on that host.
      type: str
    instance_name:
      description: The libvirt domain name, V(instance-%08x); null before the server has a number.
      type: str
    availability_zone:
      description: The availability zone the server landed in; null before scheduling.
      type: str
    host_id:
      description: Nova's hostId, an opaque per-project ID of the host (empty without a host).
      type: str
    addresses:
      description: The server's addresses, one per port, in port order.
      type: list
      elements: dict
      contains:
        network:
          description: The network's name.
          type: str
        address:
          description: The IP address.
          type: str
        version:
          description: The IP version, V(4) or V(6).
          type: int
        mac:
          description: The port's MAC address.
          type: str
    flavor:
      description: The flavor the server was built with (as it was then).
      type: dict
      contains:
        id:
          description: The flavor's ID.
          type: str
        name:
          description: The flavor's name.
          type: str
        vcpus:
          description: Virtual CPUs.
          type: int
        ram:
          description: Memory in MiB.
          type: int
        disk:
          description: Root disk in GiB.
          type: int
        ephemeral:
          description: Ephemeral disk in GiB.
          type: int
        swap:
          description: Swap in MiB.
          type: int
        extra_specs:
          description: The flavor's extra specs.
          type: dict
    image:
      description: The image the server was built from, with C(id) and C(name) (name null when the image is gone); null without one.
      type: dict
    key_name:
      description: The injected keypair's name, or null.
      type: str
    metadata:
      description: The server's metadata (C(openstack server show) prints it as C(properties)).
      type: dict
    config_drive:
      description: Whether the server has a config drive.
      type: bool
    volumes_attached:
      description: The attached volumes, each a dict with the volume's C(id).
      type: list
      elements: dict
    security_groups:
      description: Always one group, named V(default) (there are no security groups).
      type: list
      elements: dict
    disk_config:
      description: Always V(MANUAL).
      type: str
    access_ipv4:
      description: Always empty.
      type: str
    access_ipv6:
      description: Always empty.
      type: str
    progress:
      description: Always V(0).
      type: int
    created:
      description: When the server was created (V(2026-12-02T10:00:00Z)).
      type: str
    updated:
      description: When the server last changed.
      type: str
    launched_at:
      description: When the guest first ran, or null.
      type: str
    terminated_at:
      description: When the server was deleted, or null.
      type: str
    networks:
      description: The same addresses by network name (network name to list of addresses), handy in templates.
      type: dict
    ports:
      description: The server's ports with their IDs (C(id), C(network), C(network_id), C(mac_address), C(ip_address)).
      type: list
      elements: dict
    fault:
      description: Why the server is in ERROR (C(code), C(message), C(created)); only present then.
      type: dict
      returned: when the server is in ERROR
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True, aliases=["name"]),
    action=dict(type="str", required=True, choices=["start", "stop", "reboot_soft", "reboot_hard", "pause", "unpause", "suspend", "resume"]),
    timeout=dict(type="int", default=180),
    **CATALOG_SPEC,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="ministack.cloud.server_action runs on the controller as an action plugin; it cannot run as a module.")


if __name__ == "__main__":
    main()
