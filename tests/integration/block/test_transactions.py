"""The transaction rule through real playbooks, on the file backend (no guest).

While a volume is being created, the host work holds no catalog lock: another playbook runs
to its end meanwhile, sees the volume ``creating`` and gets Cinder's refusals. A run killed
with SIGKILL in the middle leaves its in-between status, which the next run settles to
``error`` with the reason; the volume can then be deleted. Two runs creating one name at
the same moment make one volume. The host step waits for a file (the test-only
MINISTACK_TEST_HOST_WORK_GATE), so that the tests can look at (and kill) a run mid-way."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time

import pytest
from fixtures.block.play import ROOT, Play

PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"
GATE = "MINISTACK_TEST_HOST_WORK_GATE"


@pytest.fixture
def play(tmp_path):
    directory = tmp_path / "vols"
    directory.mkdir()
    p = Play(PLAYBOOKS, tmp_path, {"ministack_catalog": str(tmp_path / "catalog.db"),
                                   "ministack_secret_key": "unit-test-key-0123456789",
                                   "file_directory": str(directory)})
    p.directory = directory
    assert p("e2e_step.yml", step="service").returncode == 0
    return p


def _start(play, tmp_path, tag, **extra):
    """ansible-playbook in the background, its host step held until tmp_path/gate exists."""
    import json

    vars_file = tmp_path / f"bg-{tag}.json"
    vars_file.write_text(json.dumps({**play.extravars, **extra}))
    env = {**os.environ, GATE: str(tmp_path / "gate"), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "ansible-playbook"), str(PLAYBOOKS / "e2e_step.yml"),
                             "-e", f"@{vars_file}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=str(ROOT))


def _kill_run(proc):
    """SIGKILL ansible-playbook and every process it started (its task workers call setsid(),
    so killing the process group alone would spare them)."""
    pids, todo = [], [proc.pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        todo.extend(int(c) for c in children)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)


def _volumes(play, name):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
    from sqlalchemy import select

    catalog = open_catalog(play.extravars["ministack_catalog"])
    with catalog.read() as tx:
        t = tx.t.volumes
        return tx.all(select(t).where(t.c.name == name))


def _wait_status(play, name, status, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _volumes(play, name)
        if rows and rows[0]["status"] == status:
            return rows[0]
        time.sleep(0.3)
    raise AssertionError(f"volume {name} never showed {status}: {_volumes(play, name)}")


def test_another_playbook_runs_meanwhile_and_racing_creates_make_one(play, tmp_path):
    first = _start(play, tmp_path, "a", step="volume", volume="busy1", size=1)
    second = _start(play, tmp_path, "b", step="volume", volume="busy1", size=1)
    try:
        row = _wait_status(play, "busy1", "creating")
        meanwhile = play("e2e_step.yml", step="meanwhile", volume="busy1")
        # It ran to its end while the first run was still in its host step (no lock held).
        assert first.poll() is None, "the creating run ended before the other playbook could look"
        assert meanwhile.returncode == 0, meanwhile.stdout[-2000:]
        listed = next(r for r in meanwhile.results if "volumes" in r)
        refused, snapped = [r for r in meanwhile.results if r.get("failed")]
        assert [v["status"] for v in listed["volumes"] if v["name"] == "busy1"] == ["creating"]
        assert refused["failed"] and refused["msg"].startswith(
            "state: Invalid volume: Volume status must be available or error")
        assert f"volume {row['id']} is creating" in refused["msg"]
        assert snapped["failed"] and f"Volume {row['id']} status must be available, but current status is: " \
                                     "creating." in snapped["msg"]
        (tmp_path / "gate").touch()  # let the host step go on
        out_a, _ = first.communicate(timeout=300)
        out_b, _ = second.communicate(timeout=300)
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                _kill_run(proc)
    assert first.returncode == 0, out_a[-2000:]
    assert second.returncode == 0, out_b[-2000:]
    rows = _volumes(play, "busy1")
    assert len(rows) == 1 and rows[0]["status"] == "available"
    assert sorted(f.name for f in play.directory.iterdir()) == [f"volume-{rows[0]['id']}"]
    # The second run found the first one's volume and waited for it: one created, one ok.
    assert sorted(['"changed": true' in out_a, '"changed": true' in out_b]) == [False, True]


def test_a_run_killed_mid_create_is_settled_by_the_next_run(play, tmp_path):
    killed = _start(play, tmp_path, "k", step="volume", volume="killed1", size=1)
    try:
        row = _wait_status(play, "killed1", "creating")
    finally:
        _kill_run(killed)
    assert _volumes(play, "killed1")[0]["status"] == "creating"
    after = play("e2e_step.yml", step="list")
    assert after.returncode == 0, after.stdout[-2000:]
    listed = next(r for r in after.results if "volumes" in r)
    shown = [v for v in listed["volumes"] if v["id"] == row["id"]]
    assert shown[0]["status"] == "error"
    assert "creating was interrupted: the run that owned it" in shown[0]["status_reason"]
    assert any("Settled volume" in w for w in listed.get("warnings", []))
    gone = play("e2e_step.yml", step="volume", volume="killed1", state="absent")
    assert gone.returncode == 0 and gone.result["changed"] is True, gone.stdout[-2000:]
    assert _volumes(play, "killed1") == [] and list(play.directory.iterdir()) == []
