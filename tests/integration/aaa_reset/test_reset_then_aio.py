"""From zero: scripts/reset.sh removes everything ministack made on this machine, then the
README's `./scripts/aio.sh` runs to the end, prints the walkthrough's tables, and a second run
changes nothing; playbooks/teardown.yml then removes what the walkthrough made, and a second
teardown changes nothing. That is what tests/integration/walkthrough checks (there with a
catalog of its own), so that test skips itself when this one runs (the suite's time).

It destroys what other tests and engineers hold (pools, networks, targets, Swift, lab
containers), so it runs first in the suite (this folder sorts first) and only when
MINISTACK_RESET_TESTS=1, which scripts/test.sh sets.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.vm,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("MINISTACK_RESET_TESTS") != "1",
                       reason="wipes this machine's ministack state: set MINISTACK_RESET_TESTS=1 (scripts/test.sh does)"),
]


def _env() -> dict:
    # as a user runs it: no catalog or Ansible settings from the test session
    return {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MINISTACK_CATALOG"))}


def _run(cmd, timeout=1800) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)


def _recap(out: str) -> dict:
    match = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out)
    assert match, out[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def _virsh(kind: str) -> list[str]:
    out = subprocess.run(["virsh", "-q", "-c", "qemu:///system", kind, "--all", "--name"],
                         capture_output=True, text=True, check=True).stdout
    return [n.strip() for n in out.splitlines() if n.strip().startswith("ministack-")]


def _domains() -> set[str]:
    out = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--uuid"],
                         capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_reset_then_aio_from_zero_twice():
    reset = _run(["./scripts/reset.sh", "--yes"])
    # reset.py itself fails when something it found is still there after removal
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "/srv/node" not in pathlib.Path("/proc/mounts").read_text()
    assert not (ROOT / "inventories" / "local" / ".ministack").exists()
    assert "ministack-instances" not in _virsh("pool-list")

    domains_before = _domains()
    try:
        first = _run(["./scripts/aio.sh"])
        out = first.stdout
        assert first.returncode == 0, out[-6000:] + first.stderr[-2000:]
        # the tables the README promises, as the openstack CLI prints them
        assert "| 20 | newflavor |   768 |    1 |         0 |     1 | True      |" in out
        assert re.search(r"\| nova-compute +\| localhost +\| nova +\| enabled \| up +\|", out), \
            "compute service list lacks this machine"
        assert re.search(r"\| name +\| m1\.tinier +\|", out)
        assert re.search(r"\| status\s+\| ACTIVE\s+\|", out), "server show did not print ACTIVE"
        assert re.search(r"\| addresses\s+\| intnet=10\.5\.5\.\d+", out)
        assert "login ready" in out
        assert "/dev/vdb" in out and "/mydisk" in out, "the attached volume was not seen in the guest"
        assert re.search(r"\| etag +\| b80903a46569a959cbad22d55cc3a810 +\|", out)
        # volume backup show backup1 (a 1 GiB volume is 21 objects of 50 MiB), backup list, and the
        # restored incremental attached to the guest shows the file changed after backup1
        assert re.search(r"\| object_count +\| 21 +\|", out), "backup show backup1 was not printed"
        assert re.search(r"\| backup2 +\| None +\| available +\| +1 \| True +\|", out), "backup list lacks backup2"
        assert "changed after backup1" in out, "the restored volume did not show the changed file"
        # every volume service list row is up: a backup reaching its block host is a heartbeat
        assert re.search(r"\| cinder-backup +\|", out), "volume service list showed no cinder-backup row"
        assert not re.search(r"\| cinder-(?:volume|backup) +\|(?:[^|\n]*\|){3} *down +\|", out), \
            "volume service list showed a service down"
        assert _recap(out)["failed"] == 0

        second = _run(["./scripts/aio.sh"])
        assert second.returncode == 0, second.stdout[-6000:]
        assert _recap(second.stdout)["changed"] == 0, second.stdout[-6000:]
    finally:
        down = _run([".venv/bin/ansible-playbook", "playbooks/teardown.yml"])
    assert down.returncode == 0, down.stdout[-5000:]
    assert _domains() == domains_before, "a domain was left behind"
    # the teardown takes back the loop mount and the fstab line the walkthrough added
    assert "/srv/node" not in pathlib.Path("/proc/mounts").read_text()
    assert "object-node.xfs" not in pathlib.Path("/etc/fstab").read_text()
    again = _run([".venv/bin/ansible-playbook", "playbooks/teardown.yml"])
    assert again.returncode == 0 and _recap(again.stdout)["changed"] == 0, again.stdout[-3000:]
