# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base of the object-store action plugins.

An action plugin names its module (whose file holds ARGUMENT_SPEC) and a resource class;
this base validates the arguments (one message naming the field), connects through
openstacksdk, runs the resource in check mode or not, keeps the diff only in diff mode,
and strips every no_log value (the password in ``auth``) from the result.
"""

from __future__ import annotations

import importlib

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from .client import ObjectStoreError, connect

_MODULES = "ansible_collections.ministack.cloud.plugins.modules."


class ObjectStoreAction(ActionBase):
    MODULE: str = ""
    RESOURCE = None

    TRANSFERS_FILES = False
    _requires_connection = False  # everything happens in the controller's Python
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        loaded = importlib.import_module(_MODULES + self.MODULE)
        spec = dict(loaded.ARGUMENT_SPEC)
        kwargs = dict(getattr(loaded, "MODULE_KWARGS", {}))
        try:
            validation, params = self.validate_argument_spec(argument_spec=spec, **kwargs)
        except AnsibleActionFail as err:
            result.update(failed=True, msg=str(err.message))
            return result
        no_log_values = set(validation._no_log_values)
        auth = params.get("auth") or {}
        for key in ("password", "token", "application_credential_secret"):
            if auth.get(key):
                no_log_values.add(str(auth[key]))
        try:
            swift = connect(params)
            resource = self.RESOURCE(swift, params, check_mode=bool(self._task.check_mode))
            outcome = resource.run()
        except ObjectStoreError as err:
            result.update(failed=True, msg=str(err))
            return remove_values(result, no_log_values)
        result.update(outcome)
        if not self._task.diff or resource.read_only:
            result.pop("diff", None)
        if resource.warnings:
            result.setdefault("warnings", []).extend(resource.warnings)
        return remove_values(result, no_log_values)
