"""Shared pytest set-up.

Puts collections/ on sys.path so that tests import the library exactly as Ansible does:
``from ansible_collections.ministack.cloud.plugins.plugin_utils import ...``.
"""

from __future__ import annotations

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))

import pytest  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from helpers import machine_lock  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _machine_locks(request):
    """Serialise test runs of several checkouts on one machine (tests/helpers/machine_lock.py)."""
    integration = ROOT / "tests" / "integration"
    areas = set()
    for item in request.session.items:
        path = pathlib.Path(str(item.path))
        if integration in path.parents:
            area = path.relative_to(integration).parts[0]
            # object/test_lab.py deploys Swift in podman lab containers, not on this machine.
            areas.add("object-lab" if path.relative_to(integration).parts == ("object", "test_lab.py") else area)
    reset_enabled = os.environ.get("MINISTACK_RESET_TESTS") == "1"
    handles = [machine_lock.take(name, exclusive) for name, exclusive in machine_lock.locks_for(areas, reset_enabled)]
    yield
    machine_lock.release(handles)
