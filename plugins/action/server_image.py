# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_image: see plugins/modules/server_image.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction, TaskParams
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.server_image import server_image


class ActionModule(ComputeAction):
    MODULE = "server_image"
    RESOURCE = TaskParams

    def execute(self, catalog, params, check_mode, context):
        return server_image(catalog, params["server"], params["name"], check_mode=check_mode, context=context,
                            timeout=params["timeout"])
