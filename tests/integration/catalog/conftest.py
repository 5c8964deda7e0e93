"""Fixtures for the catalog's playbook tests: catalogs on SQLite and PostgreSQL, and a runner."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "catalog"))
from catalog_pg import catalog_url, postgres_url, sqlite_url  # noqa: E402,F401  (fixtures)

from tests.helpers import playbook  # noqa: E402

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"


@pytest.fixture
def key_dir(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@test", "-f", str(directory / "id")],
                   check=True)
    return directory


Run = playbook.Run


def run_playbook(tmp_path, playbook_name: str, extravars: dict, *, check=False, diff=False, inventory=None) -> Run:
    path = PLAYBOOKS / playbook_name if not os.path.isabs(playbook_name) else playbook_name
    return playbook.run(path, workdir=tmp_path, extravars=extravars, check=check, diff=diff, inventory=inventory)


@pytest.fixture
def play(tmp_path):
    def _play(playbook, extravars, **kwargs):
        return run_playbook(tmp_path, playbook, extravars, **kwargs)

    return _play
