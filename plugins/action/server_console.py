# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_console: see plugins/modules/server_console.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction, TaskParams
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.server_console import console_log


class ActionModule(ComputeAction):
    MODULE = "server_console"
    RESOURCE = TaskParams

    def execute(self, catalog, params, check_mode, context):
        text = console_log(catalog, params["server"], params.get("length"))
        return {"changed": False, "console_log": text, "console_log_lines": text.splitlines()}
