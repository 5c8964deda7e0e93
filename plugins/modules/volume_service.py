#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: volume_service
short_description: Register a block host's volume service (cinder-volume) in the catalog
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Records a block host as Cinder records a C(cinder-volume) service, C(node@backend), with its
    availability zone, its backend (LVM volume group or file directory), its iSCSI target helper and
    address, and how the controller reaches it. The C(block_host) role calls it; it is rarely used alone.
  - The capacity (total, free, provisioned GiB) is measured on the host at every run. A run that changes
    nothing else reports C(changed=false) but refreshes the capacity and the service's heartbeat.
options:
  host:
    description: Service name, C(<node>@<backend>), for example C(localhost@lvm).
    type: str
    required: true
  state:
    description: Whether the service is registered. A service that still holds volumes is not removed.
    type: str
    choices: [present, absent]
    default: present
  backend:
    description: C(lvm) (a volume group) or C(file) (sparse files in a directory).
    type: str
    choices: [lvm, file]
    default: lvm
  backend_name:
    description: C(volume_backend_name); volume types select backends by it. Default, the part after C(@).
    type: str
  volume_group:
    description: The LVM volume group (LVM backend).
    type: str
    default: cinder-volumes
  backend_config:
    description:
      - Backend and target settings. LVM C(lvm_type) (auto, thin, default), C(volume_clear) (zero, none),
        C(volume_clear_size) (MiB); file C(file_directory), C(file_capacity_gib); tgt C(tgt_bstype)
        (rdwr, the default, or aio), C(tgt_iscsi_params) (iSCSI session parameters; default 1 MiB
        segments), C(tgt_write_cache), C(tgt_conf_dir), C(tgt_control_port).
    type: dict
  target_helper:
    description: C(tgtadm) (tgt) or C(lioadm) (LIO through targetcli; needs configfs in the kernel).
    type: str
    choices: [tgtadm, lioadm]
    default: tgtadm
  target_ip:
    description: Address the iSCSI portal listens on, as compute hosts reach it.
    type: str
    default: 127.0.0.1
  target_port:
    description: iSCSI portal port.
    type: int
    default: 3260
  availability_zone:
    description: Availability zone of the service.
    type: str
    default: nova
  connection:
    description:
      - How the controller runs commands on the host. Keys C(connection) (C(local) on the controller
        itself, C(ssh), C(podman)), C(address), C(port), C(user), C(identity_file), C(ssh_args) (a list or
        a string, e.g. C(-o ProxyJump=ops@bastion)), C(become) (sudo, bool; C(sudo) is accepted too),
        C(become_user), C(connect_timeout) (seconds, default 10), C(known_hosts) (the controller's known_hosts
        file the host's key is checked against), C(host_key_checking) (bool, default true; false accepts any
        key), C(container) (podman).
      - Ansible's inventory names are accepted as well and translated the way Ansible connects
        (C(ansible_host), C(ansible_port), C(ansible_user), C(ansible_ssh_private_key_file),
        C(ansible_ssh_args), C(ansible_ssh_common_args), C(ansible_ssh_extra_args), C(ansible_become),
        C(ansible_become_user), C(ansible_ssh_timeout)); the block_host role passes them.
      - Passwords (C(ansible_password), C(ansible_become_password)) are refused, never stored.
    type: dict
  enabled:
    description: Whether the scheduler may place new volumes on it.
    type: bool
    default: true
  disabled_reason:
    description: Why it is disabled.
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
"""

EXAMPLES = r"""
- name: Register this host's LVM backend
  ministack.cloud.volume_service:
    host: localhost@lvm
    backend: lvm
    volume_group: cinder-volumes
    connection:
      connection: local
"""

RETURN = r"""
service:
  description: The service as C(openstack volume service list) shows it, with its capacity.
  returned: always
  type: dict
  contains:
    binary:
      description: Always C(cinder-volume).
      type: str
    host:
      description: C(node@backend).
      type: str
      sample: localhost@lvm
    zone:
      description: Availability zone.
      type: str
      sample: nova
    status:
      description: enabled or disabled.
      type: str
    state:
      description: up or down (reached within service_down_time).
      type: str
    updated_at:
      description: When the controller last reached it.
      type: str
    disabled_reason:
      description: Why the service is disabled, or null.
      type: str
    backend:
      description: The backend, V(lvm) or V(file).
      type: str
    volume_backend_name:
      description: The backend's name, which a volume type selects.
      type: str
    target_helper:
      description: The iSCSI target helper, V(tgtadm) or V(lioadm).
      type: str
    target_ip:
      description: The address initiators reach the targets at.
      type: str
    provisioned_capacity_gb:
      description: GiB promised to volumes.
      type: float
    thin_provisioning:
      description: Whether the backend provisions thinly.
      type: bool
    reserved_percentage:
      description: Percentage of capacity kept free.
      type: int
    max_over_subscription_ratio:
      description: How far thin provisioning may over-commit.
      type: float
    total_capacity_gb:
      description: Capacity in GiB.
      type: float
    free_capacity_gb:
      description: Free GiB.
      type: float
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    host=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    backend=dict(type="str", choices=["lvm", "file"], default="lvm"),
    backend_name=dict(type="str"),
    volume_group=dict(type="str", default="cinder-volumes"),
    backend_config=dict(type="dict"),
    target_helper=dict(type="str", choices=["tgtadm", "lioadm"], default="tgtadm"),
    target_ip=dict(type="str", default="127.0.0.1"),
    target_port=dict(type="int", default=3260),
    availability_zone=dict(type="str", default="nova"),
    connection=dict(type="dict"),
    enabled=dict(type="bool", default=True),
    disabled_reason=dict(type="str"),
    **CATALOG_SPEC,
)


def main():
    controller_only("volume_service", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
