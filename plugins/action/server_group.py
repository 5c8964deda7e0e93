# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_group: see plugins/modules/server_group.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.server_groups import (
    ServerGroup,
)


class ActionModule(CatalogAction):
    MODULE = "server_group"
    RESOURCE = ServerGroup
