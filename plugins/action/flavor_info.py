# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.flavor_info: see plugins/modules/flavor_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.flavors import FlavorInfo


class ActionModule(CatalogAction):
    MODULE = "flavor_info"
    RESOURCE = FlavorInfo
