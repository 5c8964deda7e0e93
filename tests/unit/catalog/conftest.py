"""Fixtures for the catalog tests: a fresh catalog on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from catalog_pg import catalog_url, postgres_url, sqlite_url  # noqa: F401  (fixtures)


@pytest.fixture
def catalog(catalog_url):  # noqa: F811 (the fixture imported above)
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog

    opened = open_catalog(catalog_url)
    yield opened
    opened.dispose()
