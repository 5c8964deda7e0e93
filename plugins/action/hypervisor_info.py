# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.hypervisor_info: see plugins/modules/hypervisor_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.services import (
    ProbingHypervisorInfo,
)


class ActionModule(CatalogAction):
    MODULE = "hypervisor_info"
    RESOURCE = ProbingHypervisorInfo
