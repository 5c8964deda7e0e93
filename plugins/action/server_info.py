# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_info: see plugins/modules/server_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction, TaskParams
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.server_record import list_servers


class ActionModule(ComputeAction):
    MODULE = "server_info"
    RESOURCE = TaskParams

    def execute(self, catalog, params, check_mode, context):
        return {"changed": False, "servers": list_servers(catalog, params.get("server"))}
