"""ansible-core 2.18 is supported as well as 2.19 (meta/runtime.yml): prove it.

The main virtualenv carries 2.19. This builds a second one with the newest 2.18 and the
catalog's own dependencies (pinned by constraints.txt), then runs ansible-doc and a
playbook that uses a catalog module and the filters through it.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
VENV = ROOT / ".cache" / "venv-core218"
CORE_218 = "ansible-core==2.18.19"


def _pins(*names: str) -> list[str]:
    wanted = {n.lower() for n in names}
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [ln for ln in lines if ln and not ln.startswith("#") and ln.split("==")[0].lower() in wanted]


@pytest.fixture(scope="module")
def core218() -> pathlib.Path:
    marker = VENV / ".ready"
    want = CORE_218 + "\n" + "\n".join(_pins("sqlalchemy", "psycopg", "psycopg-binary", "greenlet"))
    if not marker.exists() or marker.read_text() != want:
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--clear", str(VENV)], check=True)
        env = dict(os.environ, PIP_CONSTRAINT="", PIP_DISABLE_PIP_VERSION_CHECK="1")
        subprocess.run([str(VENV / "bin/pip"), "install", "-q", *want.split("\n")], check=True, env=env)
        marker.write_text(want)
    return VENV / "bin"


def _env(tmp_path: pathlib.Path) -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                MINISTACK_CATALOG=f"sqlite:///{tmp_path}/catalog.db", ANSIBLE_NOCOLOR="1")


def test_core_218_is_the_one_running(core218):
    out = subprocess.run([str(core218 / "ansible"), "--version"], capture_output=True, text=True, check=True)
    assert re.search(r"core 2\.18\.\d+", out.stdout), out.stdout


def test_ansible_doc_lists_the_collection(core218, tmp_path):
    out = subprocess.run([str(core218 / "ansible-doc"), "-t", "module", "-l", "ministack.cloud", "--json"],
                         capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, check=True)
    modules = json.loads(out.stdout)
    assert "ministack.cloud.flavor" in modules


def test_a_catalog_playbook_runs_and_is_idempotent(core218, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - ministack.cloud.flavor:
        name: m1.tinier
        id: "10"
        ram: 256
        vcpus: 1
        disk: 2
      register: created
    - ministack.cloud.flavor_info:
      register: flavors
    - ansible.builtin.debug:
        msg: "{{ flavors.flavors | ministack.cloud.cli_table(['id', 'name', 'ram']) }}"
""")
    cmd = [str(core218 / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout
    assert "m1.tinier" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout

