"""Call a ministack.cloud action plugin in this Python process, as ansible-playbook would run
one task on localhost, without a playbook: about a millisecond a call, so a test can try
thousands of inputs. The result is the task result (``failed``, ``msg``, ``changed`` ...);
an exception escaping the plugin is what ansible-playbook would show as a traceback."""

from __future__ import annotations

import importlib
import types

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

_LOADER = DataLoader()
_CONNECTION = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir="/nonexistent"))


def action_class(module: str):
    return importlib.import_module(f"ansible_collections.ministack.cloud.plugins.action.{module}").ActionModule


def call(module: str, args: dict, task_vars: dict, check: bool = False, diff: bool = False) -> dict:
    task = Task()
    task.action = f"ministack.cloud.{module}"
    task.args = dict(args)
    task.check_mode = check
    task.diff = diff
    plugin = action_class(module)(task, _CONNECTION, PlayContext(), _LOADER, Templar(loader=_LOADER), None)
    return plugin.run(task_vars=dict(task_vars))
