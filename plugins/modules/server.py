#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: server
short_description: Create or delete a server (a guest on a KVM host), as openstack server create does
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Creates a server the way Nova does, in one task, on the controller. The request is checked first
    (flavor, image C(min_disk)/C(min_ram)/virtual size, networks, key, quota) and recorded in
    C(BUILD)/C(scheduling); the filter scheduler (the same C(select_hosts) as the filter plugin) picks a
    host and alternates; the flavor's resources are claimed on the host in the catalog; the guest is built
    on the host through libvirt (copy-on-write disk on the host's cached image, sized by the flavor; an
    OpenStack config drive with C(meta_data.json), C(public_keys), C(user_data) and C(network_data.json);
    a NIC on the libvirt network); and the server becomes C(ACTIVE)/C(Running) with its host, addresses and
    C(launched_at).
  - When the build fails on a host, the host is cleaned and the build is retried on the next alternate
    (three attempts in all, Nova's C(max_attempts)). A server that cannot be placed ends in C(ERROR) with the
    fault C(No valid host was found. ...); the task fails with that message and returns the server.
  - Found by O(name) (within the project). An existing server is not rebuilt. Its O(metadata) is updated;
    a different O(flavor), O(image), O(key_name) or network set fails with a message (resize and rebuild
    are separate, later features) instead of being ignored.
  - O(state=absent) deletes the domain, its disk, config drive, console log and DHCP reservations on the
    host, frees the claim and the addresses, and marks the server C(DELETED).
options:
  name:
    description: Name of the server.
    type: str
    required: true
  image:
    description: Image name or ID. Required to create a server.
    type: str
  flavor:
    description: Flavor name or ID (for example C(10) or C(m1.tiny)). Required to create a server.
    type: str
  key_name:
    description: Name of the keypair whose public key is injected (config drive C(public_keys)).
    type: str
  network:
    description: Name or ID of the network for one NIC (C(--network)). Optional when only one network exists.
    type: str
  nics:
    description:
      - NICs, in order, as C(--nic) gives them; each a dict with C(net-id) or C(net-name).
    type: list
    elements: raw
  availability_zone:
    description:
      - Availability zone to boot in. C(zone:host) forces a host (the scheduler's filters are skipped, as
        Nova does for an admin).
    type: str
  scheduler_hints:
    description: Scheduler hints, for example C(different_host) or C(same_host) with a list of server IDs.
    type: dict
  server_group:
    description: Name or ID of a server group the server joins (affinity and anti-affinity policies).
    type: str
  user_data:
    description: User data passed to the guest (config drive C(user_data)).
    type: str
    aliases: [userdata]
  metadata:
    description: Server metadata (C(properties) in the CLI; C(meta) in meta_data.json). Updated in place.
    type: dict
    aliases: [meta]
  config_drive:
    description:
      - Attach a config drive. There is no metadata service, so the config drive is always attached;
        C(false) only adds a warning.
    type: bool
    default: true
  project:
    description: Project (name or ID) the server belongs to; the default project when omitted.
    type: str
  wait:
    description: Wait until libvirt reports the domain running before recording C(ACTIVE).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the domain to run, 1 to 86400.
    type: int
    default: 180
  state:
    description: Whether the server should exist.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
attributes:
  check_mode:
    support: full
    details: In check mode nothing is scheduled or built; the returned server is the record a real run would
      start with (C(BUILD)/C(scheduling)).
  diff_mode:
    support: full
notes:
  - Scheduler settings (C(enabled_filters), weighers, allocation ratios, C(max_attempts)) come from the
    variable C(ministack_scheduler_config), a dict of Nova option names, as the C(select_hosts) filter takes.
seealso:
  - module: ministack.cloud.server_info
  - module: ministack.cloud.server_action
  - module: ministack.cloud.server_console
  - module: ministack.cloud.server_image
"""

EXAMPLES = r"""
- name: openstack server create --image cirros6 --key-name mykeypair --flavor 10 --nic net-id=... instance01
  ministack.cloud.server:
    name: instance01
    image: cirros6
    flavor: "10"
    key_name: mykeypair
    nics:
      - net-id: "{{ intnet.network.id }}"
  register: created

- name: openstack server show instance01, printed as the CLI does
  ansible.builtin.debug:
    msg: "{{ created.server | ministack.cloud.cli_show }}"

- name: Boot in a zone
  ministack.cloud.server:
    name: web1
    image: cirros6
    flavor: m1.tiny
    network: intnet
    availability_zone: AppServers1

- name: openstack server delete instance01
  ministack.cloud.server:
    name: instance01
    state: absent
"""

RETURN = r"""
server:
  description:
    - The server with the fields of C(openstack server show) (C(OS-EXT-STS:vm_state), C(addresses) such as
      C(intnet=10.5.5.29), C(flavor) such as C(m1.tinier (10)), ...), plus C(metadata), C(networks), C(ports)
      and, in C(ERROR), C(fault). Null after O(state=absent).
  returned: always
  type: dict
  sample:
    OS-EXT-AZ:availability_zone: nova
    OS-EXT-SRV-ATTR:host: localhost
    OS-EXT-SRV-ATTR:instance_name: instance-0000000d
    OS-EXT-STS:power_state: Running
    OS-EXT-STS:task_state: null
    OS-EXT-STS:vm_state: active
    addresses: intnet=10.5.5.29
    flavor: m1.tinier (10)
    id: dfbe6675-32cf-468e-b21c-24e596a76d01
    image: cirros6 (be315e95-ca18-46b4-8ca2-afb6738c7129)
    key_name: mykeypair
    name: instance01
    status: ACTIVE
timings:
  description: Seconds spent in the API step, scheduling and the build on the host (a new server only).
  returned: when a server was created
  type: dict
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    image=dict(type="str"),
    flavor=dict(type="str"),
    key_name=dict(type="str", no_log=False),
    network=dict(type="str"),
    nics=dict(type="list", elements="raw"),
    availability_zone=dict(type="str"),
    scheduler_hints=dict(type="dict"),
    server_group=dict(type="str"),
    user_data=dict(type="str", aliases=["userdata"]),
    metadata=dict(type="dict", aliases=["meta"]),
    config_drive=dict(type="bool", default=True),
    project=dict(type="str"),
    wait=dict(type="bool", default=True),
    timeout=dict(type="int", default=180),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    **CATALOG_SPEC,
)
MODULE_KWARGS = dict(mutually_exclusive=[("network", "nics")])


def main():
    controller_only("server", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
