# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.availability_zone_info: see plugins/modules/availability_zone_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.aggregates import (
    AvailabilityZoneInfo,
)


class ActionModule(CatalogAction):
    MODULE = "availability_zone_info"
    RESOURCE = AvailabilityZoneInfo
