"""What the multi-host lab tests (tests/integration/hosts) share: the lab's environment and
addresses, ansible-playbook run as an operator runs it (a subprocess, the inventory's own
ansible.cfg settings), the play recap, and the operator's copy of inventories/example/."""

from __future__ import annotations

import ipaddress
import os
import pathlib
import re
import shutil
import subprocess
import zlib

ROOT = pathlib.Path(__file__).resolve().parents[2]

# the key path inventories/example/ ships with (the lab MINISTACK_LAB=many)
EXAMPLE_KEY = "{{ inventory_dir }}/../../lab/state/many/id_ed25519"

# Test environment only: PyPI is reached through a TLS-intercepting proxy whose CA the lab image
# lacks (tests/integration/object/playbooks/lab_prepare.yml does the same).
TESTENV_VARS = "object_swift_pip_environment:\n  PIP_CERT: /etc/ssl/certs/ministack-machine-ca.crt\n"
PREPARE_PLAY = (
    "- hosts: object\n  gather_facts: false\n  tasks:\n"
    "    - ansible.builtin.include_role: {name: ministack.cloud.common_host, tasks_from: host_key}\n"
    "    - ansible.builtin.copy: {src: /etc/ssl/certs/ca-certificates.crt,"
    " dest: /etc/ssl/certs/ministack-machine-ca.crt, mode: '0644'}\n")


def environment(lab: str) -> tuple[pathlib.Path, dict]:
    """The lab's state folder and the environment its commands run with."""
    state = ROOT / "lab" / "state" / lab
    env = dict(os.environ, MINISTACK_LAB=lab, CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"),
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               # the test's own SSH control sockets: it closes them after changing a host key
               ANSIBLE_SSH_CONTROL_PATH_DIR=str(state / "ansible-cp"))
    return state, env


def lab_prefix(name: str) -> str:
    """The first three octets (and the dot) of a named lab's subnet, as lab/lab.py picks it."""
    subnet = ipaddress.ip_network(f"10.89.{78 + zlib.crc32(name.encode()) % 100}.0/24")
    return str(subnet.network_address)[: -len("0")]


def playbook(env: dict, inventory: pathlib.Path, book: str | pathlib.Path, *extra: str, timeout: int = 2400):
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(book), *extra],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False)


def recap(stdout: str) -> dict[str, dict[str, int]]:
    found = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", stdout, re.M):
        found[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return found


def operator_inventory(work: pathlib.Path, state: pathlib.Path) -> pathlib.Path:
    """What an operator does first: copy the example and point it at the key (the caller edits
    the addresses). Plus the test environment's pip CA."""
    inventory = work / "inventory"
    shutil.copytree(ROOT / "inventories" / "example", inventory)
    main = inventory / "group_vars" / "all" / "main.yml"
    main.write_text(main.read_text().replace(EXAMPLE_KEY, str(state / "id_ed25519")))
    (inventory / "group_vars" / "all" / "testenv.yml").write_text(TESTENV_VARS)
    return inventory


def prepare_object_hosts(env: dict, work: pathlib.Path, inventory: pathlib.Path):
    """Record the object hosts' keys and give them the machine's CA; returns (play path, run)."""
    prepare = work / "prepare.yml"
    prepare.write_text(PREPARE_PLAY)
    return prepare, playbook(env, inventory, prepare)
