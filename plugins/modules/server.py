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
    msg: "{{ created.server | ministack.cloud.cli_show(resource='server') }}"

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
    - The server as plain data (Nova's fields, plain keys and values). The C(ministack.cloud.cli_show)
      filter with C(resource=server) prints it as C(openstack server show) does.
    - Null after O(state=absent).
  returned: always
  type: dict
  sample:
    id: dfbe6675-32cf-468e-b21c-24e596a76d01
    name: instance01
    status: ACTIVE
    vm_state: active
    task_state: null
    power_state: Running
    host: localhost
    instance_name: instance-0000000d
    availability_zone: nova
    addresses: [{network: intnet, address: 10.5.5.29, version: 4, mac: "fa:16:3e:4c:2a:01"}]
    flavor: {id: "10", name: m1.tinier, vcpus: 1, ram: 256, disk: 2, ephemeral: 0, swap: 0, extra_specs: {}}
    image: {id: be315e95-ca18-46b4-8ca2-afb6738c7129, name: cirros6}
    key_name: mykeypair
    config_drive: true
    volumes_attached: [{id: 0b6f6d3e-8f0a-4c47-9d52-2f8d3c1f6a11}]
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
