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
  - ministack.cloud.controller
  - ministack.cloud.catalog
attributes:
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
    - The server after the action, with the keys M(ministack.cloud.server) returns in C(server) (plain data; the
      C(ministack.cloud.cli_show) filter with C(resource=server) prints C(openstack server show)).
  returned: always
  type: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True, aliases=["name"]),
    action=dict(type="str", required=True, choices=["start", "stop", "reboot_soft", "reboot_hard", "pause", "unpause", "suspend", "resume"]),
    timeout=dict(type="int", default=180),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_action", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
