"""Fixtures for the catalog tests: a fresh catalog on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog_pg


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/catalog.db"


@pytest.fixture
def postgres_url():
    if not catalog_pg.server_available():
        pytest.fail("PostgreSQL is not running: start it with scripts/daemons.sh start")
    url, name = catalog_pg.create_database()
    yield url
    catalog_pg.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request):
    """The same test on both backends."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def catalog(catalog_url):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog

    opened = open_catalog(catalog_url)
    yield opened
    opened.dispose()
