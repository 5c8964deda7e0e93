# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base for the block modules: the catalog base (which also hands over the
operator's secret key, for CHAP secrets) plus the attach tuning variables."""

from __future__ import annotations

from ..action_base import CatalogAction


class BlockAction(CatalogAction):
    def context(self, task_vars):
        context = super().context(task_vars)
        for var, key in (("ministack_volume_disk_cache", "disk_cache"), ("ministack_volume_disk_io", "disk_io")):
            value = self.task_var(task_vars, var)
            if value is not None:
                context[key] = str(value)
        return context
