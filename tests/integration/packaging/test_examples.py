"""Module and filter examples run as written (those that need no hosts: the ring ones).

Each example is taken from ansible-doc, exactly as a user reads it, and run as the tasks of
a playbook in an empty directory.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
ENV = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
EXAMPLES = {"module": ["object_ring"], "filter": ["ring_rebalance", "ring_partition", "ring_nodes"]}


def examples() -> list[tuple[str, str]]:
    found = []
    for kind, names in EXAMPLES.items():
        out = subprocess.run([str(BIN / "ansible-doc"), "-t", kind, "--json", *(f"ministack.cloud.{n}" for n in names)],
                             capture_output=True, text=True, env=ENV, cwd=ROOT, check=True).stdout
        found += [(name, doc["examples"]) for name, doc in sorted(json.loads(out).items())]
    return found


def test_the_ring_examples_run_as_written(tmp_path):
    found = examples()
    assert len(found) == 4 and all(text.strip() for _, text in found)
    failures = []
    for name, text in found:
        work = tmp_path / name.split(".")[-1]
        work.mkdir()
        tasks = "\n".join("    " + line if line.strip() else "" for line in text.splitlines())
        (work / "example.yml").write_text(f"- hosts: localhost\n  gather_facts: false\n  tasks:\n{tasks}\n")
        run = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "example.yml"],
                             capture_output=True, text=True, env=ENV, cwd=work, timeout=300, check=False)
        if run.returncode != 0 or "failed=0" not in run.stdout:
            failures.append(f"{name}:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    assert failures == [], "\n\n".join(failures)
    # the object ring example kept its ring beside the playbook, nowhere else
    assert (tmp_path / "object_ring" / "rings" / "object.ring.gz").is_file()
