"""ministack.cloud.select_hosts through ansible-playbook (tests/helpers/playbook.py)."""

from __future__ import annotations

import pathlib

import pytest

from tests.helpers import playbook
from tests.helpers.playbook import task_result

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"


def run_playbook(name, *extra):
    run = playbook.on_localhost(PLAYBOOKS / name, *extra)
    return run, run.as_json()


@pytest.fixture(scope="module")
def report():
    proc, output = run_playbook("select_hosts.yml")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return output


def test_single_placement(report):
    msg = task_result(report, "Report")["msg"]
    assert msg["one"] == [{"host": "cmp3", "alternates": ["cmp1"]}]
    assert task_result(report, "The emptiest enabled host wins, with two alternates")["changed"] is False


def test_multi_instance_in_zone_with_soft_anti_affinity(report):
    pair = task_result(report, "Report")["msg"]["pair"]
    # Both fit only in az1 (cmp1, cmp2); soft anti-affinity pushes the first off cmp1 (web-1 is there) but
    # cmp2 has only one 1 GB slot, so the second lands on cmp1.
    assert [p["host"] for p in pair] == ["cmp2", "cmp1"]
    assert all(p["alternates"] == [] for p in pair)


def test_failure_message_reaches_the_play(report):
    message = task_result(report, "Report")["msg"]["failure_message"]
    # Ansible prefixes the task context; the filter's own message starts as Nova's does.
    assert "'ministack.cloud.select_hosts' failed: No valid host was found. 4 hosts considered;" in message
    assert "AvailabilityZoneFilter removed 2 hosts: cmp3 (in availability zone az2, not az1)" in message
    assert "RamFilter removed cmp2 (needs 2048 MB, 1536 MB free)" in message
    assert "DifferentHostFilter removed cmp1 (runs different_host server web-1)" in message


def test_check_mode_gives_the_same_answer_and_changes_nothing():
    proc, output = run_playbook("select_hosts.yml", "--check")
    assert proc.returncode == 0
    assert task_result(output, "Report")["msg"]["one"] == [{"host": "cmp3", "alternates": ["cmp1"]}]
    assert output["stats"]["localhost"]["changed"] == 0


def test_unrescued_failure_fails_the_task_with_the_message():
    proc, output = run_playbook("no_valid_host.yml")
    assert proc.returncode == 2
    result = task_result(output, "Nothing is big enough")
    assert result.get("failed") is True
    assert "No valid host was found." in result["msg"]
    assert "RamFilter removed none" in result["msg"]
    assert "CoreFilter removed tiny (needs 2 vCPUs, host has 1 vCPUs in all)" in result["msg"]
