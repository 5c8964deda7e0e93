"""Object hosts deployed by playbooks/site.yml from inventories/example/ on a two-host lab: a
second run changes nothing (walkthrough_hosts.yml runs site.yml again, and the six-host lab's
second run had reported object_host's and object_proxy's configuration changed); with --diff, a
changed swift.conf and proxy-server.conf show their diff with the hash path secret and the
tempauth password masked; and, with host key checking on, a host whose key changed is refused by
site.yml, by Ansible's connection and by libvirt's qemu+libssh2 transport, each naming the host
and the known_hosts file.

Lab: MINISTACK_LAB when set (an engineer's own), else `objidem`: h1 (object1, the proxy) and h2
(object2), two devices each, three replicas; no compute or block host. The test takes it down.

`full` (a separate target, not the test command; docs/testing.md):
    python -m pytest -m full tests/integration/hosts/test_object_lab_idempotence.py
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess

import pytest
import yaml

from tests.helpers import site_lab

pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.full]

ROOT = site_lab.ROOT
LAB = os.environ.get("MINISTACK_LAB") or "objidem"
STATE, ENV = site_lab.environment(LAB)
SITE = ROOT / "playbooks" / "site.yml"
lab_prefix = site_lab.lab_prefix
recap = site_lab.recap


def playbook(inventory: pathlib.Path, book: str | pathlib.Path, *extra: str, timeout: int = 2400):
    return site_lab.playbook(ENV, inventory, book, *extra, timeout=timeout)


def changed_tasks(stdout: str) -> list[str]:
    """``<host>: <task>`` for every task (or handler) the run reported changed."""
    out, task = [], None
    for line in stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif m := re.match(r"changed: \[([^\]]+)\]", line):
            out.append(f"{m.group(1)}: {task}")
    return out

def lab(*args: str, timeout: int = 900):
    return subprocess.run([str(ROOT / "lab" / "lab"), *args], env=ENV, check=True, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    work = tmp_path_factory.mktemp("objidem")
    lab("up", "2", "--compute", "0", "--block", "0", "--object", "2")
    prefix = lab_prefix(LAB)
    # What an operator does: copy the example, list the hosts with their addresses, point at the key.
    inventory = site_lab.operator_inventory(work, STATE)
    two_devices = [{"name": "d1", "weight": 100}, {"name": "d2", "weight": 100}]
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "controller": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}},
        "compute": {"hosts": {}}, "block": {"hosts": {}}, "network": {"hosts": {}},
        "object": {"hosts": {
            "object1": {"ansible_host": f"{prefix}11", "object_host_zone": 1, "object_host_devices": two_devices},
            "object2": {"ansible_host": f"{prefix}12", "object_host_zone": 2, "object_host_devices": two_devices}}},
        "object_proxy": {"hosts": {"object1": None}}}}}))
    prepare, made = site_lab.prepare_object_hosts(ENV, work, inventory)
    assert made.returncode == 0, made.stdout[-4000:]
    first = playbook(inventory, SITE)
    assert first.returncode == 0, first.stdout[-6000:]
    yield {"inventory": inventory, "prefix": prefix, "prepare": prepare}
    subprocess.run([str(ROOT / "lab" / "lab"), "down"], env=ENV, capture_output=True, timeout=300)


def _secrets(inventory: pathlib.Path) -> list[str]:
    ministack = inventory / ".ministack"
    hashes = json.loads((ministack / "swift" / "swift-hash.json").read_text())
    return [hashes["prefix"], hashes["suffix"], (ministack / "swift-demo-password").read_text().strip()]


def test_a_second_run_changes_nothing_and_a_changed_file_shows_its_diff_with_secrets_masked(cloud):
    inventory = cloud["inventory"]
    again = playbook(inventory, SITE, "--diff")
    assert again.returncode == 0, again.stdout[-6000:]
    counts = recap(again.stdout)
    assert set(counts) >= {"localhost", "object1", "object2"}
    assert {h: c["changed"] for h, c in counts.items() if c["changed"]} == {}, changed_tasks(again.stdout)
    assert "--- /etc/swift/" not in again.stdout  # nothing changed, no diff shown

    # Someone edits the files by hand: the next run puts them back and shows what it changed.
    ssh = ["ssh", "-i", str(STATE / "id_ed25519"), "-o", f"UserKnownHostsFile={inventory / 'known_hosts'}",
           "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"]
    prefix = cloud["prefix"]
    subprocess.run([*ssh, f"root@{prefix}11", "sed -i 's/^token_life = .*/token_life = 1/' /etc/swift/proxy-server.conf"],
                   check=True, capture_output=True, timeout=60)
    subprocess.run([*ssh, f"root@{prefix}12", "sed -i 's/^name = Policy-0$/name = tampered/' /etc/swift/swift.conf"],
                   check=True, capture_output=True, timeout=60)
    fixed = playbook(inventory, SITE, "--diff")
    assert fixed.returncode == 0, fixed.stdout[-6000:]
    out = fixed.stdout
    assert sorted(t for t in changed_tasks(out) if "Write" in t) == [
        "object1: ministack.cloud.object_proxy : Write the proxy server configuration",
        "object2: ministack.cloud.object_host : Write swift.conf"], changed_tasks(out)
    assert "--- /etc/swift/proxy-server.conf (before)" in out and "-token_life = 1\n" in out, out[-6000:]
    assert "+token_life = 86400" in out
    assert "--- /etc/swift/swift.conf (before)" in out and "-name = tampered" in out and "+name = Policy-0" in out
    assert " swift_hash_path_suffix = ********\n" in out  # a context line of swift.conf's diff, masked
    for secret in _secrets(inventory):
        assert secret not in out and secret not in fixed.stderr
    final = playbook(inventory, SITE)
    assert final.returncode == 0
    assert {h: c["changed"] for h, c in recap(final.stdout).items() if c["changed"]} == {}, changed_tasks(final.stdout)


def test_a_host_whose_key_changed_is_refused_naming_the_host_and_the_file(cloud):
    inventory = cloud["inventory"]
    known_hosts = inventory / "known_hosts"
    address = f"{cloud['prefix']}12"  # object2 (h2)
    assert f"{address} ssh-ed25519 " in known_hosts.read_text()  # recorded on first use
    lab("ssh", "h2", "rm -f /etc/ssh/ssh_host_*; ssh-keygen -A >/dev/null; systemctl restart ssh", timeout=120)
    for sock in list(STATE.glob("cp-*")) + list((STATE / "ansible-cp").glob("*")):
        subprocess.run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "x"], capture_output=True, timeout=20)
    try:
        run = playbook(inventory, SITE, "--limit", "object2")
        assert run.returncode != 0
        assert f"object2 ({address}:22) offers SSH host keys that differ from the ones recorded for it in " \
               f"{known_hosts}" in " ".join(run.stdout.split()), run.stdout[-3000:]
        ping = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible"), "-i", str(inventory), "object2", "-m", "ping"],
                              cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
        assert ping.returncode != 0
        assert f"Host key for {address} has changed" in ping.stdout + ping.stderr, ping.stdout + ping.stderr
        assert str(known_hosts) in ping.stdout + ping.stderr
        import libvirt

        libvirt.registerErrorHandler(lambda *_: None, None)
        uri = (f"qemu+libssh2://root@{address}/system?sshauth=privkey&keyfile={STATE / 'id_ed25519'}"
               f"&known_hosts={known_hosts}")
        with pytest.raises(libvirt.libvirtError, match=rf"(?s){re.escape(address)}.*{re.escape(str(known_hosts))}"):
            libvirt.open(uri)
    finally:
        # the operator's way back after a deliberate reinstall: forget the key, record it anew
        subprocess.run(["ssh-keygen", "-R", address, "-f", str(known_hosts)], capture_output=True, check=True)
        again = playbook(inventory, cloud["prepare"], "--limit", "object2")
    assert again.returncode == 0, again.stdout[-4000:]
    assert f"{address} ssh-ed25519 " in known_hosts.read_text()
