# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The object-store action plugins' base: ``MinistackAction`` opening an openstacksdk
connection (the modules' connection options) instead of the catalog. The password, token and
application credential secret in ``auth`` are stripped from the result."""

from __future__ import annotations

from ..action_base import MinistackAction, Performed
from .client import connect


class ObjectStoreAction(MinistackAction):
    def perform(self, params, task_vars, check_mode, no_log_values):
        auth = params.get("auth") or {}
        for key in ("password", "token", "application_credential_secret"):
            if auth.get(key):
                no_log_values.add(str(auth[key]))
        resource = self.RESOURCE(connect(params), params, check_mode=check_mode)
        return Performed(resource.run(), resource)
