#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Create or delete a network with its subnet, realised as libvirt networks on the KVM hosts
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a named network with one IPv4 subnet (Neutron's C(network create) plus C(subnet create)).
  - Every registered KVM host gets a libvirt network for it, now and whenever a server is built there. In mode
    C(nat) and C(isolated) libvirt runs DHCP on the host's own bridge (each host is its own L2 segment, as
    nova-network's multi_host mode); C(bridged) joins an existing host bridge (C(bridge)) whose physical
    network provides addressing.
  - Server addresses are allocated by the controller from O(cidr) and handed out by libvirt's DHCP server as
    reservations, so C(openstack server show) knows them before the guest boots.
  - O(cidr), O(gateway_ip), O(enable_dhcp), O(mode), O(bridge) and O(mtu) cannot change on an existing network
    (guests use them); the task fails instead of ignoring the change. Deleting a network that servers use fails.
options:
  name:
    description: Name of the network; unique.
    type: str
    required: true
  cidr:
    description:
      - The subnet, for example C(10.5.5.0/24). Required for C(nat) and C(isolated).
      - An IPv4 network from C(/16) (65,534 addresses, the largest DHCP range libvirt accepts) to
        C(/29) (6 addresses).
    type: str
  gateway_ip:
    description:
      - The host's address on the network. The first address of O(cidr) when omitted.
      - An IPv4 host address of O(cidr), neither its network nor its broadcast address.
    type: str
  enable_dhcp:
    description: Whether libvirt serves DHCP. C(true) when a network is created without it.
    type: bool
  mode:
    description: How the network is realised on each KVM host.
    type: str
    choices: [nat, isolated, bridged]
  bridge:
    description: For O(mode=bridged), the existing host bridge to join.
    type: str
  mtu:
    description: MTU of the network (1500 when omitted), from 576 to 65535.
    type: int
  dns_nameservers:
    description: DNS servers written into the guests' network_data.json.
    type: list
    elements: str
  shared:
    description: Whether every project may use the network.
    type: bool
  project:
    description: Owner project (name or ID); the default project when omitted.
    type: str
  realize:
    description: Define and start the libvirt network on every registered KVM host now (else at the first build).
    type: bool
    default: true
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - libvirt-python >= 9.0 (libvirt's API to the KVM hosts)
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
seealso:
  - module: ministack.cloud.network_info
"""

EXAMPLES = r"""
- name: The OpenStack walkthrough's intnet (openstack network create intnet; openstack subnet create --subnet-range 10.5.5.0/24)
  ministack.cloud.network:
    name: intnet
    cidr: 10.5.5.0/24

- name: An isolated network without a route out
  ministack.cloud.network:
    name: backend
    cidr: 192.168.50.0/24
    mode: isolated
"""

RETURN = r"""
network:
  description: The network with the fields of C(openstack network show) plus its subnet. Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Network ID.
      type: str
    name:
      description: Name.
      type: str
      sample: intnet
    status:
      description: ACTIVE.
      type: str
      sample: ACTIVE
    subnets:
      description: The subnet IDs (one).
      type: list
      elements: str
    cidr:
      description: The subnet.
      type: str
      sample: 10.5.5.0/24
    gateway_ip:
      description: The host's address.
      type: str
      sample: 10.5.5.1
    enable_dhcp:
      description: Whether DHCP is served.
      type: bool
      sample: true
    mode:
      description: nat, isolated or bridged.
      type: str
      sample: nat
    bridge:
      description: The Linux bridge on each host.
      type: str
    libvirt_network:
      description: The libvirt network name on each host.
      type: str
      sample: ministack-intnet
    mtu:
      description: MTU.
      type: int
      sample: 1500
    project_id:
      description: Owner project.
      type: str
    shared:
      description: Shared with every project.
      type: bool
    is_shared:
      description: The same as C(shared) (openstacksdk's name).
      type: bool
    admin_state_up:
      description: Always true.
      type: bool
    is_router_external:
      description: Always false (Neutron's C(router:external); there are no routers).
      type: bool
    provider_network_type:
      description: Neutron's C(provider:network_type), V(flat) for a bridged network, else V(local).
      type: str
      sample: local
    dns_nameservers:
      description: The DNS servers handed out by DHCP.
      type: list
      elements: str
    ports_in_use:
      description: How many server ports the network has (before a delete is refused).
      type: int
      returned: when the module reads the network's ports
    created_at:
      description: Creation time.
      type: str
    updated_at:
      description: Last change, or null.
      type: str
hosts_changed:
  description: The KVM hosts where the libvirt network was defined, started or removed by this task.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    cidr=dict(type="str"),
    gateway_ip=dict(type="str"),
    enable_dhcp=dict(type="bool"),
    mode=dict(type="str", choices=["nat", "isolated", "bridged"]),
    bridge=dict(type="str"),
    mtu=dict(type="int"),
    dns_nameservers=dict(type="list", elements="str"),
    shared=dict(type="bool"),
    project=dict(type="str"),
    realize=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    **CATALOG_SPEC,
)


def main():
    controller_only("network", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
