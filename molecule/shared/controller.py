# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the testinfra verifiers need beside the host: the controller's side of a scenario.

The scenario's catalog is ``$MOLECULE_EPHEMERAL_DIRECTORY/catalog.db`` (converge sets
``ministack_catalog`` to it). ``run_module`` runs one of the collection's modules on the
controller, exactly as a playbook task would, with that catalog given as the module's
``catalog`` option, and returns its result.
"""

from __future__ import annotations

import json
import os
import subprocess


def catalog() -> str:
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "catalog.db")


def run_module(module: str, **args) -> dict:
    """Run ministack.cloud.<module> on localhost with these arguments; the result as a dict."""
    args.setdefault("catalog", catalog())
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", f"ministack.cloud.{module}",
         "-a", json.dumps(args)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"ministack.cloud.{module} printed no JSON:\n{proc.stdout}\n{proc.stderr}") from None
    result = out["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert not result.get("failed"), f"ministack.cloud.{module} failed: {result.get('msg')}"
    return result
