# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog: the controller's database of the cloud (see docs/catalog.md).

    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog, claim

    catalog = open_catalog()              # argument, else $MINISTACK_CATALOG, else a SQLite file
    with catalog.begin() as tx:           # one atomic write transaction
        claim(tx, "compute1", server_id, vcpus=1, memory_mb=512, disk_gb=1)
    with catalog.read() as tx:            # a read-only snapshot
        states = host_states(tx)
"""

from __future__ import annotations

from .engine import ENV_URL, Catalog, Tx, open_catalog, resolve_url, utcnow
from .errors import (
    CatalogError,
    CatalogUnavailable,
    ClaimFailed,
    Conflict,
    InvalidInput,
    NotFound,
    NoValidHost,
    OverQuota,
)
from .hosts import (
    DEFAULT_AVAILABILITY_ZONE,
    aggregates,
    allocations,
    availability_zone_of,
    claim,
    host_states,
    host_zones,
    is_up,
    release,
    touch_service,
)
from .projects import default_project, find_project

__all__ = [
    "DEFAULT_AVAILABILITY_ZONE",
    "ENV_URL",
    "Catalog",
    "CatalogError",
    "CatalogUnavailable",
    "ClaimFailed",
    "Conflict",
    "InvalidInput",
    "NoValidHost",
    "NotFound",
    "OverQuota",
    "Tx",
    "aggregates",
    "allocations",
    "availability_zone_of",
    "claim",
    "default_project",
    "find_project",
    "host_states",
    "host_zones",
    "is_up",
    "open_catalog",
    "release",
    "resolve_url",
    "touch_service",
    "utcnow",
]
