"""Fixtures for the block tests: a real LVM VG on a loop PV (activation stand-in), a file
backend directory, and a tgt helper writing its persistence into a private conf.d."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from ansible_collections.ministack.cloud.plugins.plugin_utils.block import (
    backends,
    runner,
    targets,
)
from fixtures.block.lvm import lvm_environment


def _tgtd_running():
    return subprocess.run(["pgrep", "-x", "tgtd"], capture_output=True).returncode == 0


@pytest.fixture(scope="session", autouse=True)
def _daemons():
    if not _tgtd_running():
        subprocess.run(["tgtd"], check=True)


@pytest.fixture
def lvm(tmp_path):
    vg = f"mstest-{uuid.uuid4().hex[:8]}"
    with lvm_environment(vg) as env:
        run = runner.LocalRunner(env=env["env"])
        backend = backends.LVMBackend(run, volume_group=vg, volume_clear="none")
        backend.setup([env["pv"]])
        yield backend, env


@pytest.fixture
def file_backend(tmp_path):
    directory = tmp_path / "volumes"
    backend = backends.FileBackend(runner.LocalRunner(), str(directory))
    backend.setup()
    return backend


@pytest.fixture
def tgt(tmp_path):
    helper = targets.TgtTarget(runner.LocalRunner(), conf_dir=str(tmp_path / "conf.d"))
    made = []
    helper.made = made
    yield helper
    for volume_id in made:
        helper.unexport(volume_id)

