#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: object
short_description: Upload, download, update or delete a Swift object
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages one object, as C(openstack object create/save/set/unset/delete) do.
  - Uploads send the MD5 of the content as the ETag, so Swift refuses (HTTP 422) a body damaged on the
    way; the ETag Swift returns is checked again. A file already stored with the same ETag is not sent
    again (the task reports no change).
  - Content larger than O(segment_size) is uploaded as a static large object, its segments in
    O(segment_container), each checked by its own ETag; replacing or deleting it removes its old segments.
  - O(dest) downloads the object to a file on the controller, checked against the ETag (per segment for a
    static large object); an identical file is left alone.
  - Metadata keys are case-insensitive and reported in lower case. O(metadata) sets the keys it names and
    keeps the others. Swift's POST replaces all of an object's metadata, so the module always sends the
    whole resulting set.
options:
  container:
    description: Container of the object; it must exist.
    type: str
    required: true
  name:
    description:
      - Name of the object (1 to 1024 bytes; C(/) allowed).
      - A C(.) or C(..) path segment (C(a/../b), C(./b)) is refused, because HTTP clients resolve it before the
        request reaches Swift, so another object would be read, written or deleted.
    type: str
    required: true
  state:
    description: Whether the object should exist.
    type: str
    choices: [present, absent]
    default: present
  filename:
    description: File on the controller to upload.
    type: path
  data:
    description: Content to upload, given inline.
    type: str
  dest:
    description: File on the controller to download the object to.
    type: path
  metadata:
    description: Metadata (X-Object-Meta-*) to set; keys not named are kept.
    type: dict
  delete_metadata_keys:
    description: Metadata keys to remove.
    type: list
    elements: str
  content_type:
    description: Content-Type to store; Swift guesses it from the name when omitted on upload.
    type: str
  segment_size:
    description:
      - Content larger than this is uploaded as a static large object. Bytes, or with a unit (V(100M), V(1G)).
      - Keep it the same for an object across runs; with another size the ETag differs and it is uploaded again.
    type: raw
    default: 1G
  segment_container:
    description: Container for the segments; created when missing. Default C(<container>_segments).
    type: str
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.object_store
seealso:
  - module: ministack.cloud.object_info
  - module: ministack.cloud.object_container
"""

EXAMPLES = r"""
- name: Upload a file (openstack object create mycontainer hello.txt)
  ministack.cloud.object:
    container: mycontainer
    name: hello.txt
    filename: /tmp/hello.txt
    metadata:
      purpose: demo
    auth: "{{ swift_auth }}"

- name: Store inline content
  ministack.cloud.object:
    container: mycontainer
    name: notes/today.txt
    data: "Hello, Swift\n"
    content_type: text/plain
    auth: "{{ swift_auth }}"

- name: Upload a large image in 100 MiB segments
  ministack.cloud.object:
    container: images
    name: debian.qcow2
    filename: /srv/images/debian.qcow2
    segment_size: 100M
    auth: "{{ swift_auth }}"

- name: Download it (openstack object save)
  ministack.cloud.object:
    container: mycontainer
    name: hello.txt
    dest: /tmp/hello.copy.txt
    auth: "{{ swift_auth }}"

- name: Delete it
  ministack.cloud.object:
    container: mycontainer
    name: hello.txt
    state: absent
    auth: "{{ swift_auth }}"
"""

RETURN = r"""
object:
  description:
    - The object as plain data. The C(ministack.cloud.cli_show) filter with C(resource=object) prints it as
      C(openstack object show) does (C(content-length) from C(content_length), ...).
    - Null after O(state=absent).
  returned: always
  type: dict
  contains:
    account:
      description: Account.
      type: str
      sample: AUTH_test
    container:
      description: Container.
      type: str
      sample: mycontainer
    object:
      description: Object name.
      type: str
      sample: hello.txt
    content_length:
      description: Size in bytes.
      type: int
      sample: 13
    content_type:
      description: Content type.
      type: str
      sample: text/plain
    etag:
      description: MD5 of the content (for a static large object, the MD5 of its segments' ETags).
      type: str
      sample: 5a4c5d5e0f7ca9a1b87fbb3c7e1b9a5e
    last_modified:
      description: Last modification, HTTP date.
      type: str
      sample: Fri, 27 Nov 2026 00:14:40 GMT
    properties:
      description: Metadata, lower-case keys.
      type: dict
      sample: {"purpose": "demo"}
    static_large_object:
      description: Whether the object is a static large object (a manifest of segments).
      type: bool
      sample: false
dest:
  description: The downloaded file.
  returned: with O(dest)
  type: str
"""

from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only
from ansible_collections.ministack.cloud.plugins.module_utils.objectstore import CONNECTION_SPEC

ARGUMENT_SPEC = dict(
    container=dict(type="str", required=True),
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    filename=dict(type="path"),
    data=dict(type="str"),
    dest=dict(type="path"),
    metadata=dict(type="dict"),
    delete_metadata_keys=dict(type="list", elements="str", no_log=False),
    content_type=dict(type="str"),
    segment_size=dict(type="raw", default="1G"),
    segment_container=dict(type="str"),
    **CONNECTION_SPEC,
)
MODULE_KWARGS = dict(mutually_exclusive=[("filename", "data", "dest")])


def main():
    controller_only("object", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
