"""Module and filter examples run as written (those that need no hosts: the ring ones).

Each example is the EXAMPLES text ansible-doc shows, run as the tasks of its own play, on its
own inventory host (so that no example sees another's variables), in an empty directory.
"""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
MODULES = ["object_ring"]
FILTERS = ["ring_rebalance", "ring_partition", "ring_nodes"]


def examples() -> dict[str, str]:
    found = {}
    for name in MODULES:
        tree = ast.parse((ROOT / "plugins" / "modules" / f"{name}.py").read_text())
        found[name] = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                           and any(getattr(t, "id", "") == "EXAMPLES" for t in node.targets))
    for name in FILTERS:
        found[name] = yaml.safe_load((ROOT / "plugins" / "filter" / f"{name}.yml").read_text())["EXAMPLES"]
    return found


def test_the_ring_examples_run_as_written(tmp_path):
    found = examples()
    assert all(text.strip() for text in found.values())
    plays = []
    for name, text in found.items():
        tasks = "\n".join("    " + line if line.strip() else "" for line in text.splitlines())
        plays.append(f"- name: Example of {name}\n  hosts: example_{name}\n  gather_facts: false\n  tasks:\n{tasks}\n")
    (tmp_path / "examples.yml").write_text("\n".join(plays))
    hosts = ",".join(f"example_{name}" for name in found)
    run = subprocess.run([str(BIN / "ansible-playbook"), "-i", hosts + ",", "-c", "local", "examples.yml"],
                         capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=300, check=False)
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
    for name in found:
        assert f"example_{name}" in run.stdout and "failed=0" in run.stdout
    # the object ring example kept its ring beside the playbook, nowhere else
    assert (tmp_path / "rings" / "object.ring.gz").is_file()
