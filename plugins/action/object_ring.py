# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.object_ring: see plugins/modules/object_ring.py."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.ministack.cloud.plugins.modules.object_ring import ARGUMENT_SPEC
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring import RingError
from ansible_collections.ministack.cloud.plugins.plugin_utils.ring.store import ensure_ring


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the ring lives on the controller
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        try:
            _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        except AnsibleActionFail as err:
            result.update(failed=True, msg=str(err.message))
            return result
        try:
            outcome = ensure_ring(check_mode=bool(self._task.check_mode), **params)
        except RingError as err:
            result.update(failed=True, changed=False, msg=str(err))
            return result
        except OSError as err:
            result.update(failed=True, changed=False, msg=f"Cannot write the ring in {params['path']}: {err}")
            return result
        if not self._task.diff:
            outcome.pop("diff", None)
        result.update(outcome)
        return result
