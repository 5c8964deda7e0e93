"""Fixtures for the catalog's playbook tests: catalogs on SQLite and PostgreSQL, and a runner."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "catalog"))
import catalog_pg  # noqa: E402

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/catalog.db"


@pytest.fixture
def postgres_url():
    if not catalog_pg.server_available():
        pytest.fail("PostgreSQL is not running: start it with scripts/daemons.sh start")
    url, name = catalog_pg.create_database()
    yield url
    catalog_pg.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request):
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def key_dir(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@test", "-f", str(directory / "id")],
                   check=True)
    return directory


class Run:
    """One ansible-runner run: the stats and every task result by task name."""

    def __init__(self, runner):
        self.runner = runner
        self.rc = runner.rc
        self.stats = runner.stats or {}
        self.results: dict[str, list[dict]] = {}
        self.failures: dict[str, list[dict]] = {}
        for event in runner.events:
            data = event.get("event_data", {})
            name = data.get("task")
            if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_item_on_ok", "runner_item_on_failed"):
                target = self.failures if "failed" in event["event"] else self.results
                if event["event"].startswith("runner_item"):
                    continue  # the loop's final result carries every item
                target.setdefault(name, []).append(data.get("res", {}))
        self.stdout = runner.stdout.read()

    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    def failed(self) -> int:
        return sum(self.stats.get("failures", {}).values())

    def result(self, task: str) -> dict:
        return self.results[task][0]


def run_playbook(tmp_path, playbook: str, extravars: dict, *, check=False, diff=False, inventory=None) -> Run:
    import ansible_runner

    cmdline = []
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    env = {
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        # the vendored ansible.posix and community.general too: catalog.yml applies the kvm_host role
        "ANSIBLE_COLLECTIONS_PATH": f"{ROOT / 'collections'}:{ROOT / '.cache' / 'collections'}",
        "ANSIBLE_NOCOLOR": "1",
    }
    private = tmp_path / f"runner-{uuid.uuid4().hex[:8]}"  # unique: tests run playbooks from threads
    private.mkdir()
    kwargs = {}
    if inventory is not None:
        kwargs["inventory"] = str(inventory)
    runner = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(PLAYBOOKS / playbook) if not os.path.isabs(playbook) else playbook,
        extravars=extravars,
        cmdline=" ".join(cmdline) or None,
        envvars=env,
        quiet=True,
        **kwargs,
    )
    return Run(runner)


@pytest.fixture
def play(tmp_path):
    def _play(playbook, extravars, **kwargs):
        return run_playbook(tmp_path, playbook, extravars, **kwargs)

    return _play
