#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server_console
short_description: Show a server's console log (openstack console log show)
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Returns the serial console output of a server, kept on its KVM host by virtlogd and read through
    libvirt.
options:
  server:
    description: Name or ID of the server.
    type: str
    required: true
    aliases: [name]
  length:
    description: Only the last this many lines (C(--lines)).
    type: int
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
extends_documentation_fragment:
  - ministack.cloud.controller.info
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.server
"""

EXAMPLES = r"""
- name: openstack console log show instance01
  ministack.cloud.server_console:
    server: instance01
  register: console

- name: Print it
  ansible.builtin.debug:
    msg: "{{ console.console_log }}"
"""

RETURN = r"""
console_log:
  description: The console output (text).
  returned: always
  type: str
  sample: "ministack-test: login ready: hostname=instance01 ip=10.5.5.2"
console_log_lines:
  description: The console output as a list of lines.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    server=dict(type="str", required=True, aliases=["name"]),
    length=dict(type="int"),
    **CATALOG_SPEC,
)


def main():
    controller_only("server_console", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
