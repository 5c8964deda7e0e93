"""The README's main job, for real: playbooks/walkthrough.yml on this machine.

It runs the seed's walkthrough against a fresh catalog (a guest boots, a volume is attached
over iSCSI and formatted inside it), checks the tables it prints against the seed's, runs it
again expecting no change, then tears it down and checks that nothing is left on the host.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import pytest

from tests.helpers import playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
pytestmark = [
    pytest.mark.vm,
    pytest.mark.slow,
    # scripts/test.sh sets it: tests/integration/aaa_reset then runs this same walkthrough from
    # zero through ./scripts/aio.sh, twice, with the teardown checks below; once is enough.
    pytest.mark.skipif(os.environ.get("MINISTACK_RESET_TESTS") == "1",
                       reason="tests/integration/aaa_reset runs the walkthrough (MINISTACK_RESET_TESTS=1)"),
]


def _play(name: str, workdir: pathlib.Path) -> playbook.Run:
    """The playbook as the README runs it (ansible.cfg's inventory), on a catalog of its own."""
    # playbook.run takes a path: a bare name would be looked for in ansible-runner's project folder
    return playbook.run(ROOT / "playbooks" / name, workdir=workdir, timeout=1200,
                        extravars={"walkthrough_key_file": f"{workdir}/mykeypair.key"},
                        envvars={"MINISTACK_CATALOG": f"sqlite:///{workdir}/catalog.db"})


def _domains() -> set[str]:
    out = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--uuid"],
                         capture_output=True, text=True, check=True).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def test_walkthrough_runs_is_idempotent_and_tears_down(tmp_path):
    domains_before = _domains()

    first = _play("walkthrough.yml", tmp_path)
    assert first.returncode == 0, first.explain()
    assert first.host_stats()["changed"] > 0
    out = first.stdout
    # a fresh catalog's `openstack flavor list` is the seed's table, byte for byte
    assert "| ID | Name      |   RAM | Disk | Ephemeral | VCPUs | Is Public |" in out
    assert "| 20 | newflavor |   768 |    1 |         0 |     1 | True      |" in out
    assert re.search(r"\| name +\| m1\.tinier +\|", out), "flavor create m1.tinier was not shown"
    assert re.search(r"\| status\s+\| ACTIVE\s+\|", out), "server show did not print ACTIVE"
    assert re.search(r"\| addresses\s+\| intnet=10\.5\.5\.\d+", out)
    assert "login ready" in out, "the console log lacks the guest's login line"
    assert "/dev/vdb" in out and "/mydisk" in out, "the attached volume was not seen in the guest"
    # Swift: the object's etag is the MD5 of the bytes the walkthrough stored
    assert re.search(r"\| etag +\| b80903a46569a959cbad22d55cc3a810 +\|", out), "object show did not print the etag"
    # volume backup show backup1 (a 1 GiB volume is 21 objects of 50 MiB), backup list, and the
    # restored incremental attached to the guest shows the file changed after backup1
    assert re.search(r"\| object_count +\| 21 +\|", out), "backup show backup1 was not printed"
    assert re.search(r"\| backup2 +\| None +\| available +\| +1 \| True +\|", out), "backup list lacks backup2"
    assert "changed after backup1" in out, "the restored volume did not show the changed file"
    # every volume service list row is up: a backup reaching its block host is a heartbeat
    assert re.search(r"\| cinder-backup +\|", out), "volume service list showed no cinder-backup row"
    assert not re.search(r"\| cinder-(?:volume|backup) +\|(?:[^|\n]*\|){3} *down +\|", out), \
        "volume service list showed a service down"

    second = _play("walkthrough.yml", tmp_path)
    assert second.returncode == 0, second.explain()
    # nothing changes the second time, on any host of the inventory (all localhost here)
    assert second.changed() == 0, f"changed: {second.changed_tasks()}\n{second.explain()}"

    down = _play("teardown.yml", tmp_path)
    assert down.returncode == 0, down.stdout[-5000:]
    # only new ones count: other checkouts on this machine may remove their own meanwhile
    assert _domains() - domains_before == set(), "a domain was left behind"
    again = _play("teardown.yml", tmp_path)
    assert again.returncode == 0 and again.host_stats()["changed"] == 0, again.explain()
