"""The multi-host lab (lab/lab) and the shared molecule set-up, for real.

The tests bring up their own lab (MINISTACK_LAB=pytest: containers ministack-pytest-h1..h3,
network ministack-pytest, lab/state/pytest/), so a developer's lab is left alone. They run in
file order: up, checks over SSH with Ansible, compute and object checks, then down.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import time

import pytest

from tests.helpers import guest, playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
LAB = ROOT / "lab" / "lab"
LAB_NAME = "pytest"
STATE = ROOT / "lab" / "state" / LAB_NAME
INVENTORY = STATE / "inventory.yml"
PYTHON = ROOT / ".venv" / "bin" / "python"
ENV = {
    **os.environ,
    "MINISTACK_LAB": LAB_NAME,
    "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf"),
    "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
    # ansible-runner and molecule call ansible-* by name: the venv's must be found.
    "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
}

pytestmark = pytest.mark.lab


def lab(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LAB), *args], env=ENV, capture_output=True, text=True,
                          timeout=timeout, check=False)


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], env=ENV, capture_output=True, text=True,
                          timeout=120, check=False)


def lab_container_ids() -> dict[str, str]:
    out = podman("ps", "-a", "--filter", f"label=ministack.lab={LAB_NAME}", "--format", "json").stdout
    return {c["Names"][0]: c["Id"] for c in json.loads(out or "[]")}


def probe_hosts(tmp_path: pathlib.Path) -> dict[str, dict[str, dict]]:
    """Run playbooks/probe_hosts.yml through the written inventory: results by host, then task."""
    run = playbook.run(pathlib.Path(__file__).parent / "playbooks" / "probe_hosts.yml", workdir=tmp_path,
                       inventory=INVENTORY, envvars={"PATH": ENV["PATH"]})
    results: dict[str, dict[str, dict]] = {}
    for task, host, ended, res in run.tasks:
        if ended != "skipped":
            results.setdefault(host, {})[task] = {"event": f"runner_on_{ended}", **res}
    assert run.rc == 0, f"probe_hosts.yml failed: {run.status}, {results}"
    return results


def compute_ip() -> str:
    listing = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-inventory"), "-i", str(INVENTORY), "--host", "h1"],
        env=ENV, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(listing.stdout)["ansible_host"]


@pytest.fixture(scope="module")
def lab3():
    started = time.monotonic()
    result = lab("up", "3")
    assert result.returncode == 0, f"lab up failed:\n{result.stderr}"
    elapsed = time.monotonic() - started
    try:
        yield {"elapsed": elapsed, "stderr": result.stderr}
    finally:
        # A safety net: test_down_removes_hosts_and_network checks `down` itself.
        lab("down")


def test_up_writes_inventory_with_role_groups(lab3):
    listing = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-inventory"), "-i", str(INVENTORY), "--list"],
        env=ENV, capture_output=True, text=True, check=True, timeout=60,
    )
    inventory = json.loads(listing.stdout)
    assert inventory["lab"]["hosts"] == ["h1", "h2", "h3"]
    assert inventory["compute"]["hosts"] == ["h1"]
    assert inventory["block"]["hosts"] == ["h2"]
    assert inventory["object"]["hosts"] == ["h1", "h2", "h3"]
    assert inventory["controller"]["hosts"] == ["localhost"]
    hostvars = inventory["_meta"]["hostvars"]
    addresses = [hostvars[h]["ansible_host"] for h in ("h1", "h2", "h3")]
    assert len(set(addresses)) == 3
    assert all(a.startswith("10.89.") and a.endswith((".11", ".12", ".13")) for a in addresses)
    assert "ControlMaster=auto" in hostvars["h1"]["ansible_ssh_common_args"]
    # Host keys pinned: strict checking against the lab's known_hosts file, which holds each host's keys
    known_hosts = STATE / "known_hosts"
    assert "StrictHostKeyChecking=yes" in hostvars["h1"]["ansible_ssh_common_args"]
    assert f"UserKnownHostsFile={known_hosts}" in hostvars["h1"]["ansible_ssh_common_args"]
    assert hostvars["h1"]["ministack_known_hosts"] == str(known_hosts)
    recorded = known_hosts.read_text().split()
    assert all(a in recorded for a in addresses)
    assert hostvars["h1"]["ansible_ssh_private_key_file"] == str(STATE / "id_ed25519")
    assert hostvars["h1"]["libvirt_uri"].startswith(f"qemu+libssh2://root@{addresses[0]}/system?")
    # libssh2's transport checks the key against known_hosts unless told no_verify=1
    assert hostvars["h1"]["libvirt_uri"].endswith(f"&known_hosts={known_hosts}")
    assert "no_verify" not in hostvars["h1"]["libvirt_uri"]
    assert "libvirt_uri" not in hostvars["h2"]


def test_every_host_answers_ansible_over_ssh_with_systemd_running(lab3, tmp_path):
    results = probe_hosts(tmp_path)
    assert sorted(results) == ["h1", "h2", "h3"]
    for host, tasks in results.items():
        assert tasks["Ping"]["ping"] == "pong", f"{host}: {tasks['Ping']}"
        state = tasks["Ask systemd for the state of the system"]["stdout"]
        assert state == "running", f"{host}: systemd is {state!r}"


def test_status_reports_every_host_healthy(lab3):
    result = lab("status", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == ["h1", "h2", "h3"]
    assert all(row[1] == "running" and row[3] == "yes" and row[4] == "running" for row in rows), rows


def test_up_again_keeps_the_existing_hosts(lab3):
    before = lab_container_ids()
    started = time.monotonic()
    result = lab("up", "3")
    assert result.returncode == 0, result.stderr
    assert lab_container_ids() == before
    assert result.stderr.count("kept, already running") == 3
    assert time.monotonic() - started < 30


def test_bad_role_count_fails_with_one_clear_message(lab3):
    result = lab("up", "3", "--compute", "4")
    assert result.returncode == 1
    assert "--compute 4 is out of range: give 0..3" in result.stderr
    assert len(lab_container_ids()) == 3


def test_ssh_runs_a_command_on_a_host(lab3):
    result = lab("ssh", "h2", "hostname", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "h2"


def test_compute_host_defines_and_starts_a_guest_over_qemu_ssh(lab3):
    probe = subprocess.run(
        [str(PYTHON), str(ROOT / "lab" / "probe_compute.py"), compute_ip(),
         "--key", str(STATE / "id_ed25519")],
        env=ENV, capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(probe.stdout)
    assert result["ok"], result.get("error")
    assert result["hypervisor"] == "QEMU"
    assert set(result["timings"]) >= {"connect_s", "define_s", "start_s", "destroy_s", "undefine_s"}


@pytest.mark.vm
@pytest.mark.full  # about 2-3 min; the test command keeps the define-and-start test over qemu+ssh
def test_compute_host_boots_the_test_image_under_tcg(lab3):
    image = guest.ensure_test_image()
    probe = subprocess.run(
        [str(PYTHON), str(ROOT / "lab" / "probe_compute.py"), compute_ip(),
         "--key", str(STATE / "id_ed25519"), "--boot", str(image)],
        env=ENV, capture_output=True, text=True, timeout=300, check=False)
    result = json.loads(probe.stdout)
    assert result["ok"], result.get("error")
    assert "login ready" in result["login_line"]
    assert "ip=192.168.122." in result["login_line"], "the guest got no address from libvirt's NAT network"


def test_object_hosts_keep_swift_sized_xattrs(lab3):
    # Swift stores object metadata in user xattrs; the container's own filesystem fails past
    # about 4 KiB, which is why object hosts get a tmpfs at /srv/node.
    script = ("import os; p='/srv/node/xattr-probe'; open(p, 'w').close(); "
              "os.setxattr(p, 'user.swift.metadata', b'x' * 16384); "
              "print(len(os.getxattr(p, 'user.swift.metadata'))); os.remove(p)")
    result = lab("ssh", "h3", f'python3 -c "{script}"', timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "16384"


def test_down_removes_hosts_and_network(lab3):
    started = time.monotonic()
    result = lab("down", timeout=300)
    assert result.returncode == 0, result.stderr
    assert lab_container_ids() == {}
    assert podman("network", "exists", f"ministack-{LAB_NAME}").returncode == 1
    assert not INVENTORY.exists()
    assert time.monotonic() - started < 60
    again = lab("down")
    assert again.returncode == 0 and "no lab hosts to remove" in again.stderr


@pytest.mark.full  # about 3 min, like the other roles' scenarios (test_molecule_roles.py)
def test_molecule_scenario_of_common_host_passes():
    result = subprocess.run([str(LAB), "molecule", "common_host", "test"], env=ENV,
                            capture_output=True, text=True, timeout=900, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for action in ("create", "converge", "idempotence", "verify", "destroy"):
        assert f"{action}: Executed: Successful" in _plain(output), f"molecule {action} did not pass"
    leftovers = podman("ps", "-a", "--filter", f"name=molecule-{LAB_NAME}-common-host", "--format", "{{.Names}}").stdout
    assert leftovers.strip() == ""


def _plain(text: str) -> str:
    """molecule colours its output: drop the ANSI escapes before matching."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
