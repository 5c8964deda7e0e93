# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action-plugin base of the compute modules, on the catalog's CatalogAction.

Adds to it: the task variables compute uses (``ministack_image_store``,
``ministack_scheduler_config``), a ``prepare()`` step that runs before the write
transaction opens (checksumming an image file), and an ``after_commit`` step.
Modules whose work spans several transactions (server) override ``execute``.
"""

from __future__ import annotations

from ..action_base import CatalogAction
from ..catalog.resource import Resource


class TaskParams(Resource):
    """Carries a task's parameters to ``ComputeAction.execute`` (no single-transaction flow)."""


class ComputeAction(CatalogAction):
    def context(self, task_vars: dict) -> dict:
        ctx = super().context(task_vars)
        for var, key in (("ministack_image_store", "image_store"), ("ministack_scheduler_config", "scheduler_config")):
            ctx[key] = self.task_var(task_vars, var)
        return ctx

    def _execute(self, catalog, resource, check_mode: bool) -> dict:
        if isinstance(resource, TaskParams):
            return self.execute(catalog, resource.params, check_mode, resource.context)
        prepare = getattr(resource, "prepare", None)
        if prepare is not None:
            prepare()
        outcome = CatalogAction._execute(catalog, resource, check_mode)
        after = getattr(resource, "after_commit", None)
        if after is not None and not check_mode:
            after()
        return outcome

    def execute(self, catalog, params: dict, check_mode: bool, context: dict) -> dict:
        raise NotImplementedError
