"""Compute integration tests: real playbooks against the local compute host (qemu:///system).

The kvm_host role prepares this machine once per session (pools, registration in a fresh
catalog); each test module shares that catalog. Guests are booted one at a time.
"""

from __future__ import annotations

import pathlib
import subprocess

import pytest

from tests.helpers import playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]


class PlayResult:
    """A run (tests/helpers/playbook.py) with the views these tests use."""

    def __init__(self, run):
        self.run = run
        self.output = run.as_json()
        self.rc = run.rc

    @property
    def stats(self) -> dict:
        return self.run.host_stats()

    @property
    def changed(self) -> int:
        return self.stats["changed"]

    def task(self, name: str) -> dict:
        return self.run.task(name)

    def explain(self) -> str:
        return self.run.explain()


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
        run = playbook.run(book, workdir=self.workdir, inventory=ROOT / "inventories" / "local" / "hosts.yml",
                           check=check, diff=diff, timeout=timeout)
        return PlayResult(run)

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
