#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_ring
short_description: Build or rebalance a Swift ring and write its .ring.gz
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Keeps one Swift ring (account, container or object) in a directory on the controller, as
    C(swift-ring-builder <ring>.builder create/add/remove/set_weight/rebalance) does, with this collection's
    own ring builder (see P(ministack.cloud.ring_rebalance#filter)).
  - The builder state is kept as plain JSON in C(<path>/<ring>.builder.json) (no pickle) and the ring
    is written to C(<path>/<ring>.ring.gz) in Swift's format version 1, loadable by Swift's own Ring
    class. Distribute that file to every Swift node (the C(object_host) and C(object_proxy) roles do).
  - O(devices) is the whole device list. A device keeps its id across runs; one left out is removed and
    its partitions move at once; weight 0 drains a device over several rebalances.
  - Rebalances only when the devices or O(part_power), O(replicas), O(overload) changed, or when an earlier
    rebalance was held back by O(min_part_hours) and those hours have passed; otherwise nothing changes.
  - At most one replica of a partition moves per rebalance, and none that moved less than O(min_part_hours)
    ago (except off removed devices), so data stays readable while replication catches up.
  - Runs on the controller (an action plugin); there is nothing to install on the hosts.
options:
  path:
    description: Directory holding C(<ring>.builder.json) and C(<ring>.ring.gz); created if missing.
    type: path
    required: true
  ring:
    description:
      - Which ring. C(account), C(container), C(object) (storage policy 0), or C(object-<index>) for the
        object ring of storage policy <index> (C(object-1), C(object-2), ...), as Swift names them.
    type: str
    required: true
  devices:
    description:
      - The devices of the ring. Each needs C(zone), C(ip), C(port) (the account, container or object server's
        port), C(device) (directory under the server's C(devices) root, for example C(sdb1)) and C(weight)
        (about 100 per TB); optional C(id), C(region) (default 1), C(replication_ip), C(replication_port)
        (default ip and port) and C(meta).
    type: list
    elements: dict
    required: true
  part_power:
    description:
      - The ring has 2**part_power partitions; about 100 per disk at the largest planned size, rounded up to a
        power of two. Cannot change once the ring exists.
    type: int
    default: 10
  replicas:
    description:
      - Replicas of every partition; may be fractional. Default 3, or for an erasure-coded policy's ring
        (O(ec_num_data_fragments)) the number of fragments.
    type: float
  ec_num_data_fragments:
    description:
      - For the ring of an erasure-coded storage policy, its data fragments (Swift's C(ec_num_data_fragments)).
        With O(ec_num_parity_fragments), the ring holds one "replica" per fragment, C(ndata + nparity), each on
        a different device and spread over regions, zones and servers by the same rules as replicas (Swift's
        proxy refuses an EC policy whose ring has another replica count).
    type: int
  ec_num_parity_fragments:
    description: For the ring of an erasure-coded storage policy, its parity fragments (Swift's C(ec_num_parity_fragments)).
    type: int
  min_part_hours:
    description: Hours before a partition that moved may move again. Swift suggests 24 in production.
    type: int
    default: 1
  overload:
    description: Fraction (0.1 = 10%) by which a device may take more than its weight's share to keep replicas apart.
    type: float
    default: 0.0
  seed:
    description: Random seed of the rebalance; by default the ring's version, so results are reproducible.
    type: int
extends_documentation_fragment:
  - ministack.cloud.controller
attributes:
  check_mode:
    support: full
    details: Computes the rebalance and reports what it would move, without writing.
  diff_mode:
    support: full
    details: The device list and parameters before and after, one line per device as swift-ring-builder prints it.
seealso:
  - plugin: ministack.cloud.ring_rebalance
    plugin_type: filter
  - plugin: ministack.cloud.ring_nodes
    plugin_type: filter
"""

EXAMPLES = r"""
# The ring files are kept on the controller (here beside the playbook); the object roles copy
# them to the hosts. swift_hash_path_prefix/suffix are swift.conf's values: keep the real ones
# in Ansible Vault; they must never change once objects are stored.
- name: Object ring over three zones (swift-ring-builder object.builder create 10 3 1; add ...; rebalance)
  ministack.cloud.object_ring:
    path: "{{ playbook_dir }}/rings"
    ring: object
    part_power: 10
    replicas: 3
    min_part_hours: 1
    devices:
      - {region: 1, zone: 1, ip: 10.0.0.11, port: 6200, device: sdb, weight: 100}
      - {region: 1, zone: 2, ip: 10.0.0.12, port: 6200, device: sdb, weight: 100}
      - {region: 1, zone: 3, ip: 10.0.0.13, port: 6200, device: sdb, weight: 100}
  register: object_ring

- name: Ring of storage policy 2, erasure-coded 4+2 (six fragments per partition, each on its own device)
  ministack.cloud.object_ring:
    path: "{{ playbook_dir }}/rings"
    ring: object-2
    ec_num_data_fragments: 4
    ec_num_parity_fragments: 2
    devices: "{{ object_devices }}"
  vars:
    # at least six devices, spread over servers and zones
    object_devices:
      - {region: 1, zone: 1, ip: 10.0.0.11, port: 6200, device: sdb, weight: 100}
      - {region: 1, zone: 1, ip: 10.0.0.11, port: 6200, device: sdc, weight: 100}
      - {region: 1, zone: 2, ip: 10.0.0.12, port: 6200, device: sdb, weight: 100}
      - {region: 1, zone: 2, ip: 10.0.0.12, port: 6200, device: sdc, weight: 100}
      - {region: 1, zone: 3, ip: 10.0.0.13, port: 6200, device: sdb, weight: 100}
      - {region: 1, zone: 3, ip: 10.0.0.13, port: 6200, device: sdc, weight: 100}

- name: Print it as swift-ring-builder does
  ansible.builtin.debug:
    msg: "{{ object_ring.partitions }} partitions, {{ object_ring.replicas }} replicas,
          {{ object_ring.balance }} balance, {{ object_ring.dispersion }} dispersion, moved {{ object_ring.moved }}"

- name: Look an object up in the kept ring
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', playbook_dir ~ '/rings/object.builder.json') | from_json
             | ministack.cloud.ring_nodes('AUTH_test', 'c', 'o', swift_hash_path_prefix, swift_hash_path_suffix)
             | map(attribute='ip') }}"
  vars:
    swift_hash_path_prefix: ""
    swift_hash_path_suffix: changeme
"""

RETURN = r"""
balance:
  description: Largest percentage by which a device holds more or fewer part-replicas than its weight asks
    (swift-ring-builder's definition).
  returned: always
  type: float
  sample: 0.1
dispersion:
  description: Percentage of part-replicas placed in a failure domain that already holds its share of the
    partition (swift-ring-builder's definition); 0 is fully spread.
  returned: always
  type: float
  sample: 0.0
moved:
  description: Part-replicas this run reassigned (would reassign, in check mode); 0 when it did not rebalance.
  returned: always
  type: int
  sample: 3072
rebalanced:
  description: Whether this run rebalanced the ring.
  returned: always
  type: bool
pending:
  description: True when min_part_hours held moves back; run again after that many hours.
  returned: always
  type: bool
version:
  description: The ring's version, one more at every rebalance.
  returned: always
  type: int
  sample: 1
part_power:
  description: Partition power.
  returned: always
  type: int
  sample: 10
partitions:
  description: Number of partitions (2**part_power).
  returned: always
  type: int
  sample: 1024
replicas:
  description: Replica count.
  returned: always
  type: float
  sample: 3.0
min_part_hours:
  description: Hours before a moved partition may move again.
  returned: always
  type: int
  sample: 1
overload:
  description: Overload fraction.
  returned: always
  type: float
  sample: 0.0
devices:
  description: The devices with their ids, C(parts) held, C(parts_wanted) (negative when over) and C(balance).
  returned: always
  type: list
  elements: dict
  sample: [{"id": 0, "region": 1, "zone": 1, "ip": "10.0.0.11", "port": 6200, "replication_ip": "10.0.0.11",
            "replication_port": 6200, "device": "sdb", "weight": 100.0, "meta": "", "parts": 1024,
            "parts_wanted": 0, "balance": 0.0}]
builder_file:
  description: Path of the builder state.
  returned: always
  type: str
  sample: /etc/swift/object.builder.json
ring_file:
  description: Path of the ring file.
  returned: always
  type: str
  sample: /etc/swift/object.ring.gz
"""

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    ring=dict(type="str", required=True),
    devices=dict(type="list", elements="dict", required=True),
    part_power=dict(type="int", default=10),
    replicas=dict(type="float"),
    ec_num_data_fragments=dict(type="int"),
    ec_num_parity_fragments=dict(type="int"),
    min_part_hours=dict(type="int", default=1),
    overload=dict(type="float", default=0.0),
    seed=dict(type="int"),
)


def main():
    controller_only("object_ring", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
