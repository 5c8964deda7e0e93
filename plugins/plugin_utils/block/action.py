# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base for the block modules: the catalog base plus the operator's secret key
(``ministack_secret_key``, for CHAP secrets) and the attach tuning variables."""

from __future__ import annotations

from ..action_base import CatalogAction


class BlockAction(CatalogAction):
    def context(self, task_vars):
        context = super().context(task_vars)
        for var, key in (("ministack_secret_key", "secret_key"), ("ministack_volume_disk_cache", "disk_cache"),
                         ("ministack_volume_disk_io", "disk_io")):
            value = task_vars.get(var)
            if value is not None and self._templar is not None:
                value = self._templar.template(value)
            if value is not None:
                context[key] = str(value)
        return context

    def run(self, tmp=None, task_vars=None):
        # The key must never reach a result, a diff or a log line, whatever a resource does.
        result = super().run(tmp, task_vars)
        key = (task_vars or {}).get("ministack_secret_key")
        if key and self._templar is not None:
            key = str(self._templar.template(key))
        if key:
            from ansible.module_utils.common.parameters import remove_values

            result = remove_values(result, {key})
        return result
