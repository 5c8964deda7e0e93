"""Every role's molecule scenario (pytest-testinfra verifier), for real.

common_host's scenario is part of the test command (test_lab.py); these four take longer
(libvirtd and its pools, tgt and a volume, Swift installed from PyPI into the container), so
they are ``full`` targets: ``python -m pytest -m full tests/integration/lab/test_molecule_roles.py``.
Each runs in its own lab name, so the containers never meet a developer's.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
LAB_NAME = "pytestmol"
ENV = {
    **os.environ,
    "MINISTACK_LAB": LAB_NAME,
    "CONTAINERS_CONF": str(ROOT / "lab" / "containers.conf"),
    "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
}
ENV.pop("ANSIBLE_CONFIG", None)  # molecule writes its own

pytestmark = [pytest.mark.lab, pytest.mark.full]


@pytest.mark.parametrize("role", ["kvm_host", "block_host", "object_host", "object_proxy"])
def test_the_molecule_scenario_passes(role):
    result = subprocess.run([str(ROOT / "lab" / "lab"), "molecule", role, "test"], env=ENV,
                            capture_output=True, text=True, timeout=1800, check=False)
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, output[-6000:]
    for action in ("create", "converge", "idempotence", "verify", "destroy"):
        assert f"{action}: Executed: Successful" in output, f"molecule {action} did not pass"
    assert re.search(r"=+ \d+ passed", output), "the testinfra verifier ran no test"
    name = f"molecule-{LAB_NAME}-{role.replace('_', '-')}"
    leftovers = subprocess.run(["podman", "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}}"],
                               env=ENV, capture_output=True, text=True, check=False).stdout
    assert leftovers.strip() == ""
