# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.network_info: see plugins/modules/network_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.networks import NetworkInfo


class ActionModule(ComputeAction):
    MODULE = "network_info"
    RESOURCE = NetworkInfo
