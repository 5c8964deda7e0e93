# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_action: see plugins/modules/server_action.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction, TaskParams
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.server_action import server_action


class ActionModule(ComputeAction):
    MODULE = "server_action"
    RESOURCE = TaskParams

    def execute(self, catalog, params, check_mode, context):
        return server_action(catalog, params["server"], params["action"], check_mode=check_mode,
                             timeout=params["timeout"])
