# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one base of every ministack action plugin, parameterised by what it opens.

An action plugin is then three lines:

    from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.flavors import Flavor

    class ActionModule(CatalogAction):
        MODULE = "flavor"        # plugins/modules/flavor.py holds ARGUMENT_SPEC (+ MODULE_KWARGS)
        RESOURCE = Flavor        # a catalog.resource.Resource subclass

``MinistackAction`` does what every action does, in order: validates the task's arguments
against the module's own argument_spec (one message naming the field); calls ``perform``
(the subclass opens what it works on: the catalog, the object store, the ring's directory,
and runs the resource there); turns any ``MinistackError`` (the library's one error root,
worded as OpenStack words it) into one failure message; keeps the diff only in diff mode;
adds the resource's warnings; hides a result that carries a secret handed out once; and
strips every no_log value from the result.

``CatalogAction`` opens the catalog chosen by the option ``catalog`` (module_defaults group
``ministack.cloud.catalog``), else the task var ``ministack_catalog``, else
$MINISTACK_CATALOG, else ``<inventory_dir>/.ministack/catalog.db``, else
``~/.ministack/catalog.db``; hands the resources the operator's key (option ``secret_key``,
else the var ``ministack_secret_key``) as ``context["secret_key"]``; settles what killed runs
left (``catalog.tasks``); runs the resource's read-compare-apply in one write transaction
(rolled back in check mode) or, for info modules, in a read snapshot, with the host work after
it and no lock held (``workflow.execute``, the transaction rule).
``objectstore.action.ObjectStoreAction`` opens an openstacksdk connection instead, and the
ring's action (plugins/action/object_ring.py) a ring directory.
"""

from __future__ import annotations

import importlib

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from . import workflow
from .catalog import open_catalog, tasks
from .errors import MinistackError

_MODULES = "ansible_collections.ministack.cloud.plugins.modules."


def module_spec(module: str) -> tuple[dict, dict]:
    """ARGUMENT_SPEC and MODULE_KWARGS (mutually_exclusive, required_if, ...) of a module file."""
    loaded = importlib.import_module(_MODULES + module)
    return loaded.ARGUMENT_SPEC, dict(getattr(loaded, "MODULE_KWARGS", {}))


def catalog_location(task_vars: dict, templar, option: str | None = None) -> tuple[str | None, str | None]:
    """(url or None, base directory for the default file): the ``catalog`` option, else the task's variables."""
    url = option if option else task_vars.get("ministack_catalog")
    if url is not None and templar is not None:
        url = templar.template(url)
    return (str(url) if url else None), task_vars.get("inventory_dir")


def secret_key(task_vars: dict, templar, option: str | None = None) -> str | None:
    """The operator's key: the ``secret_key`` option, else the variable ``ministack_secret_key``."""
    key = option if option else task_vars.get("ministack_secret_key")
    if key is not None and templar is not None:
        key = templar.template(key)
    return str(key) if key else None


class Performed:
    """What ``perform`` hands back: the outcome, and the resource's flags the base applies."""

    def __init__(self, outcome: dict, resource=None, warnings=()):
        self.outcome = outcome
        self.warnings = list(getattr(resource, "warnings", None) or []) + list(warnings)
        self.read_only = bool(getattr(resource, "read_only", False))
        self.hide_result = bool(getattr(resource, "hide_result", False))


class MinistackAction(ActionBase):
    """Base of every ministack action plugin (see the module docstring)."""

    MODULE: str = ""
    RESOURCE = None

    TRANSFERS_FILES = False
    _requires_connection = False  # everything happens in the controller's Python
    _supports_check_mode = True
    _supports_async = False

    def perform(self, params: dict, task_vars: dict, check_mode: bool, no_log_values: set) -> Performed:
        """Open what this action works on and run the task there (subclasses)."""
        raise NotImplementedError

    def task_var(self, task_vars: dict, name: str):
        """A task variable, templated."""
        value = task_vars.get(name)
        if value is not None and self._templar is not None:
            value = self._templar.template(value)
        return value

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        spec, kwargs = module_spec(self.MODULE)
        try:
            validation, params = self.validate_argument_spec(argument_spec=spec, **kwargs)
        except AnsibleActionFail as err:
            result.update(failed=True, msg=str(err.message))
            return result
        no_log_values = set(validation._no_log_values)
        try:
            done = self.perform(params, task_vars, bool(self._task.check_mode), no_log_values)
        except MinistackError as err:  # the one root: catalog, scheduler, block, ring, ... as worded
            result.update(failed=True, changed=False, msg=str(err))
            return remove_values(result, no_log_values)
        result.update(done.outcome)
        if not self._task.diff or done.read_only:
            result.pop("diff", None)
        if done.warnings:
            result.setdefault("warnings", []).extend(done.warnings)
        if done.hide_result:
            # A secret handed out once (a generated private key): the registered variable
            # keeps it, the output and logs show "censored".
            result["_ansible_no_log"] = True
        return remove_values(result, no_log_values)


class CatalogAction(MinistackAction):
    """Base of every catalog action plugin: opens the catalog (see the module docstring)."""

    def context(self, task_vars: dict) -> dict:
        """Extra values a resource may use (subclasses may add to it)."""
        return {"inventory_hostname": task_vars.get("inventory_hostname")}

    def perform(self, params, task_vars, check_mode, no_log_values):
        # The catalog options (doc fragment ministack.cloud.catalog) are the action's, not the resource's.
        catalog_option, key = params.pop("catalog", None), params.pop("secret_key", None)
        key = secret_key(task_vars, self._templar, key)
        context = self.context(task_vars)
        if key:
            no_log_values.add(key)
            context["secret_key"] = key
        resource = self.RESOURCE(params, check_mode=check_mode, context=context)
        url, base_dir = catalog_location(task_vars, self._templar, catalog_option)
        catalog = open_catalog(url, base_dir=base_dir)
        self._display.vvv(f"ministack catalog: {catalog.display_url}", host=task_vars.get("inventory_hostname"))
        # A run that was killed left its in-between statuses: settle them first.
        settled = [] if check_mode else tasks.settle_stale(catalog)
        outcome = self._execute(catalog, resource, check_mode)
        return Performed(outcome, resource, [f"Settled {why}" for why in settled])

    @staticmethod
    def _execute(catalog, resource, check_mode: bool) -> dict:
        return workflow.execute(catalog, resource, check_mode)
