# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.object_ring: see plugins/modules/object_ring.py.

The ring lives on the controller: this action opens the ring directory (``path``)."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import MinistackAction, Performed
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring import RingError
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.store import ensure_ring


class ActionModule(MinistackAction):
    MODULE = "object_ring"

    def perform(self, params, task_vars, check_mode, no_log_values):
        try:
            return Performed(ensure_ring(check_mode=check_mode, **params))
        except OSError as err:
            raise RingError(f"Cannot write the ring in {params['path']}: {err}") from None
