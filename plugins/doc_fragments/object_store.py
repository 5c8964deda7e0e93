# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Controller-side modules that talk to a Swift API through openstacksdk; with
    # ministack.cloud.controller (or .info) for the attributes.
    DOCUMENTATION = r"""
options:
  cloud:
    description: Name of a cloud in C(clouds.yaml) to take the connection from, instead of O(auth).
    type: str
  auth:
    description:
      - Credentials, as in openstack.cloud's modules. For Swift's tempauth (O(auth_type=v1password)) give
        C(auth_url) (for example C(http://proxy:8080/auth/v1.0)), C(username) as C(account:user), and
        C(password). For Keystone (O(auth_type=password)) give C(auth_url), C(username), C(password),
        C(project_name), C(user_domain_name), C(project_domain_name).
      - The whole dictionary is treated as a secret and never shown in results or logs.
    type: dict
  auth_type:
    description: The keystoneauth plugin; V(v1password) is Swift's tempauth/swauth v1 protocol.
    type: str
    default: v1password
  region_name:
    description: Region of the object-store endpoint, when the catalog has several.
    type: str
  validate_certs:
    description: Whether to check the proxy's TLS certificate.
    type: bool
    default: true
    aliases: [verify]
  ca_cert:
    description: CA bundle to check the proxy's TLS certificate with.
    type: path
    aliases: [cacert]
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 180
notes:
  - This module runs on the Ansible controller (it is an action plugin) and talks to the Swift API
    through openstacksdk, so it works against any Swift, not only the one the object roles deploy.
requirements:
  - openstacksdk >= 1.0
  - python-swiftclient >= 4.0 (for the v1password authentication plugin)
"""
