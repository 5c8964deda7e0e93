#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object_container
short_description: Create, update or delete a Swift container
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages one container of a Swift account, as C(openstack container create/set/unset/delete) does.
  - Metadata keys are case-insensitive in Swift and reported in lower case. O(metadata) sets the keys it
    names and leaves the others; O(delete_metadata_keys) removes keys.
  - A container that holds objects is deleted only with O(delete_with_all_objects=true).
options:
  name:
    description: Name of the container (1 to 256 bytes, no C(/), not C(.) or C(..), which HTTP clients resolve to the account).
    type: str
    required: true
    aliases: [container]
  state:
    description: Whether the container should exist.
    type: str
    choices: [present, absent]
    default: present
  metadata:
    description: Metadata (X-Container-Meta-*) to set; keys not named are kept.
    type: dict
  delete_metadata_keys:
    description: Metadata keys to remove.
    type: list
    elements: str
  read_ACL:
    description:
      - The container's read ACL (X-Container-Read), for example V(.r:*,.rlistings) for a public
        container or V(test2:tester2). An empty string removes it; omitted leaves it as it is.
    type: str
  write_ACL:
    description: The container's write ACL (X-Container-Write); an empty string removes it.
    type: str
  storage_policy:
    description:
      - Storage policy of a new container (X-Storage-Policy; C(openstack container create --storage-policy)), by
        name or alias as the cluster's C(/info) lists them. Omitted, a new container gets the cluster's default policy.
      - A container's policy cannot change; naming another policy for an existing container fails.
    type: str
  delete_with_all_objects:
    description: With O(state=absent), delete the container's objects first.
    type: bool
    default: false
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.object_store
seealso:
  - module: ministack.cloud.object_container_info
  - module: ministack.cloud.object
"""

EXAMPLES = r"""
- name: Create the OpenStack walkthrough's container (openstack container create mycontainer)
  ministack.cloud.object_container:
    name: mycontainer
    metadata:
      owner: demo
    auth:
      auth_url: http://127.0.0.1:8080/auth/v1.0
      username: test:tester
      password: "{{ swift_password }}"

- name: A container on the erasure-coded policy (openstack container create --storage-policy ec42 archive)
  ministack.cloud.object_container:
    name: archive
    storage_policy: ec42
    auth: "{{ swift_auth }}"

- name: Let anyone read and list it
  ministack.cloud.object_container:
    name: mycontainer
    read_ACL: ".r:*,.rlistings"
    auth: "{{ swift_auth }}"

- name: Delete it with everything in it
  ministack.cloud.object_container:
    name: mycontainer
    state: absent
    delete_with_all_objects: true
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
container:
  description: The container, with the fields of C(openstack container show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    account:
      description: Account (storage URL's last part).
      type: str
      sample: AUTH_test
    container:
      description: Container name.
      type: str
      sample: mycontainer
    bytes_used:
      description: Bytes stored.
      type: int
      sample: 0
    object_count:
      description: Number of objects.
      type: int
      sample: 0
    read_acl:
      description: Read ACL, or null.
      type: str
      sample: ".r:*,.rlistings"
    write_acl:
      description: Write ACL, or null.
      type: str
      sample: null
    storage_policy:
      description: Storage policy.
      type: str
      sample: Policy-0
    properties:
      description: Metadata, lower-case keys.
      type: dict
      sample: {"owner": "demo"}
"""

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["container"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    metadata=dict(type="dict"),
    delete_metadata_keys=dict(type="list", elements="str", no_log=False),
    read_ACL=dict(type="str"),
    write_ACL=dict(type="str"),
    storage_policy=dict(type="str"),
    delete_with_all_objects=dict(type="bool", default=False),
    **CONNECTION_SPEC,
)


def main():
    controller_only("object_container", ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
