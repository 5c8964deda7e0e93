"""Compute integration tests: real playbooks against the local compute host (qemu:///system).

The kvm_host role prepares this machine once per session (pools, registration in a fresh
catalog); each test module shares that catalog. Guests are booted one at a time.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / "ansible-playbook"


class PlayResult:
    def __init__(self, proc, output):
        self.proc = proc
        self.output = output
        self.rc = proc.returncode

    @property
    def stats(self) -> dict:
        return self.output["stats"]["localhost"]

    @property
    def changed(self) -> int:
        return self.stats["changed"]

    def task(self, name: str) -> dict:
        for play in self.output["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name:
                    return task["hosts"]["localhost"]
        raise KeyError(name)

    def explain(self) -> str:
        return self.proc.stdout[-4000:] + self.proc.stderr[-2000:]


class Cloud:
    """One catalog + image store for a test session, and a way to run plays against it."""

    def __init__(self, workdir: pathlib.Path):
        self.workdir = workdir
        self.catalog = workdir / "catalog.db"
        self.image_store = workdir / "images"
        self.vars = {"ministack_catalog": str(self.catalog), "ministack_image_store": str(self.image_store)}

    def play(self, tasks=None, *, roles=None, check=False, diff=False, extra_vars=None, gather_facts=False,
             timeout=900) -> PlayResult:
        book = [{"name": "compute test", "hosts": "localhost", "gather_facts": gather_facts,
                 "vars": {**self.vars, **(extra_vars or {})}, "roles": roles or [], "tasks": tasks or []}]
        path = self.workdir / f"play-{uuid.uuid4().hex[:8]}.yml"
        path.write_text(json.dumps(book))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
        cmd = [str(ANSIBLE_PLAYBOOK), "-i", str(ROOT / "inventories" / "local" / "hosts.yml"), str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        try:
            output = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"ansible-playbook gave no JSON (rc {proc.returncode}): "
                                 f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}") from None
        return PlayResult(proc, output)

    def open_catalog(self):
        from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog

        return open_catalog(str(self.catalog))


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    """A fresh catalog with this machine registered as compute host ``localhost`` by the kvm_host role."""
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    env = cloud = Cloud(tmp_path_factory.mktemp("compute-cloud"))
    result = env.play(roles=[{"role": "ministack.cloud.kvm_host"}], gather_facts=True)
    assert result.rc == 0, result.explain()
    return cloud
