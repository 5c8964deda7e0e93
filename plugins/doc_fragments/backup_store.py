# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The backup modules reach the object store with the object modules' settings.
    DOCUMENTATION = r"""
options:
  cloud:
    description: Name of a cloud in C(clouds.yaml) to take the object store connection from, instead of O(auth).
    type: str
  auth:
    description:
      - Object store credentials, exactly as for the object modules (M(ministack.cloud.object_container)).
        For Swift's tempauth C(auth_url) (C(http://proxy:8080/auth/v1.0)), C(username) as C(account:user) and
        C(password). Set them once for every object and backup module with C(module_defaults) on the
        action group C(group/ministack.cloud.object_store).
      - The controller authenticates; the block host receives only the storage URL and a token, on stdin.
        Neither the password nor the token appears in results, logs or process lists.
    type: dict
  auth_type:
    description: The keystoneauth plugin; V(v1password) is Swift's tempauth/swauth v1 protocol.
    type: str
    default: v1password
  region_name:
    description: Region of the object-store endpoint.
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
  swift_url:
    description:
      - The storage URL the block host uses (Cinder's C(backup_swift_url)), for example
        C(http://10.0.0.5:8080/v1/AUTH_demo), when it reaches the proxy by another address than the
        controller. Omitted, the storage URL that authentication returns.
    type: str
"""
