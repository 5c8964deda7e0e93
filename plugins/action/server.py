# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server: see plugins/modules/server.py.

Runs the create flow of compute.servers.Servers: several short catalog transactions around
the build on the host, never one long one.
"""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resource import require_int
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction, TaskParams
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.servers import ServerFailed, Servers


class ActionModule(ComputeAction):
    MODULE = "server"
    RESOURCE = TaskParams

    def execute(self, catalog, params, check_mode, context):
        # Checked before anything is recorded: a negative or huge wait would make the build
        # fail (or hang) after scheduling and the claim.
        params["timeout"] = require_int("timeout", params.get("timeout"), minimum=1, maximum=86400, unit="s")
        manager = Servers(catalog, params, check_mode=check_mode, context=context,
                          log=self._display.vv)
        if params.get("config_drive") is False:
            manager.warnings.append("config_drive: false is ignored: without a metadata service the config drive "
                                    "is the only way to pass keys and user data, so it is always attached.")
        try:
            outcome = manager.run()
        except ServerFailed as exc:
            outcome = {"failed": True, "changed": True, "msg": str(exc), "server": exc.server}
        if manager.timings:
            outcome["timings"] = {k: round(v, 3) for k, v in manager.timings.items()}
        if manager.warnings:
            outcome["warnings"] = manager.warnings
        return outcome
