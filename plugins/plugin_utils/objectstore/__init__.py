# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift containers, objects and accounts through openstacksdk.

Works against any Swift API (the one the object_proxy role deploys, or another cloud's):
openstacksdk does authentication (tempauth v1 through ``v1password``, or Keystone) and
endpoint discovery; requests go through its object-store proxy with explicit headers, so
that ETags, metadata and manifests are exactly what Swift receives.
"""

from __future__ import annotations

from .account import AccountInfo
from .client import ObjectStoreError, connect
from .containers import Container, ContainerInfo
from .objects import Object, ObjectInfo

__all__ = [
    "AccountInfo",
    "Container",
    "ContainerInfo",
    "Object",
    "ObjectInfo",
    "ObjectStoreError",
    "connect",
]
