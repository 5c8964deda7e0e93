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
