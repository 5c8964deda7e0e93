#!/usr/bin/python
# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: keypair
short_description: Import or generate an SSH keypair
version_added: 0.1.0
author: ministack developers (@ministack)
description:
  - Manages a keypair in the ministack catalog, as C(openstack keypair create/delete) does.
  - With O(public_key) or O(public_key_file) the public key is imported. Without either, a key is generated on
    the controller; its private key is handed back once, in RV(keypair.private_key), and optionally written to
    O(private_key_file) with mode 0600. The catalog stores public keys only.
  - Keys are compared normalised (key type and key data; comments and spacing do not count). An existing keypair
    with a different key fails with O(state=present) and is replaced in place with O(state=replace).
  - The output of a task that generated a key is censored (as with C(no_log)); the registered variable holds it.
options:
  name:
    description: Name of the keypair; unique within the project.
    type: str
    required: true
  state:
    description:
      - C(present) creates the keypair if missing; C(replace) also replaces a different public key;
        C(absent) deletes it.
    type: str
    choices: [present, absent, replace]
    default: present
  public_key:
    description: The public key to import, for example the content of C(~/.ssh/id_ed25519.pub).
    type: str
  public_key_file:
    description: Path on the controller of a public key file to import.
    type: path
  private_key_file:
    description:
      - Path on the controller where a generated private key is written (mode 0600). The file must not exist.
      - Only when a key is generated (neither O(public_key) nor O(public_key_file)).
    type: path
  key_algorithm:
    description: Algorithm of a generated key.
    type: str
    choices: [rsa, ed25519]
    default: rsa
  type:
    description: Nova's keypair type.
    type: str
    choices: [ssh, x509]
    default: ssh
  project:
    description: Name or ID of the owning project; the default project when omitted.
    type: str
requirements:
  - cryptography >= 41 (key generation and fingerprints)
extends_documentation_fragment:
  - ministack.cloud.controller
  - ministack.cloud.catalog
attributes:
  check_mode:
    support: full
    details: In check mode no key is generated and no file is written.
  diff_mode:
    support: full
    details: The diff never shows a private key.
seealso:
  - module: ministack.cloud.keypair_info
"""

EXAMPLES = r"""
- name: Generate mykeypair and keep its private key (openstack keypair create mykeypair >> mykeypair.key)
  ministack.cloud.keypair:
    name: mykeypair
    private_key_file: "{{ playbook_dir }}/mykeypair.key"

- name: Import my own public key
  ministack.cloud.keypair:
    name: mykey
    public_key_file: ~/.ssh/id_ed25519.pub

- name: Rotate a key in place
  ministack.cloud.keypair:
    name: mykey
    public_key: "{{ lookup('ansible.builtin.file', 'new_key.pub') }}"
    state: replace
"""

RETURN = r"""
keypair:
  description: The keypair, with the fields of C(openstack keypair show). Null after O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Keypair ID.
      type: int
      sample: 1
    name:
      description: Keypair name.
      type: str
      sample: mykeypair
    type:
      description: C(ssh) or C(x509).
      type: str
      sample: ssh
    fingerprint:
      description: MD5 fingerprint of the key (SHA-1 of the certificate for x509), as Nova computes it.
      type: str
      sample: "1f:4b:0a:49:7d:3c:76:5d:38:63:2c:7b:8c:8c:63:9e"
    public_key:
      description: The public key.
      type: str
      sample: ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ... Generated-by-ministack mykeypair
    private_key:
      description: The generated private key, in OpenSSH format. Only on the run that generated it.
      type: str
      returned: when a key was generated
      sample: "-----BEGIN OPENSSH PRIVATE KEY-----\n..."
    project_id:
      description: Owning project.
      type: str
      sample: 5f1d2c3b4a5d6e7f8091a2b3c4d5e6f7
    created_at:
      description: Creation time, UTC.
      type: str
      sample: "2025-01-15T07:02:32.000000"
    updated_at:
      description: Time of the last replacement, UTC, or null.
      type: str
      sample: null
"""

from ansible_collections.ministack.cloud.plugins.module_utils.catalog import CATALOG_SPEC
from ansible_collections.ministack.cloud.plugins.module_utils.controller import controller_only

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent", "replace"], default="present"),
    public_key=dict(type="str"),
    public_key_file=dict(type="path"),
    private_key_file=dict(type="path"),
    key_algorithm=dict(type="str", choices=["rsa", "ed25519"], default="rsa"),
    type=dict(type="str", choices=["ssh", "x509"], default="ssh"),
    project=dict(type="str"),
    **CATALOG_SPEC,
)
MODULE_KWARGS = dict(
    mutually_exclusive=[["public_key", "public_key_file"], ["public_key", "private_key_file"],
                        ["public_key_file", "private_key_file"]],
)


def main():
    controller_only("keypair", ARGUMENT_SPEC, **MODULE_KWARGS)


if __name__ == "__main__":
    main()
