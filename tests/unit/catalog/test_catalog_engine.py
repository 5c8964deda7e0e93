"""Opening, migrating and transactions of the catalog, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import (
    Catalog,
    CatalogUnavailable,
    default_project,
    migrate,
    open_catalog,
    resolve_url,
)
from sqlalchemy import insert, select

SEED = {"1": "m1.tiny", "2": "m1.small", "3": "m1.medium", "4": "m1.large", "5": "m1.xlarge", "20": "newflavor"}


def test_resolve_url_order(monkeypatch, tmp_path):
    monkeypatch.delenv("MINISTACK_CATALOG", raising=False)
    assert resolve_url(None, str(tmp_path)) == f"sqlite:///{tmp_path}/.ministack/catalog.db"
    assert resolve_url(None, None) == "sqlite:///" + os.path.expanduser("~/.ministack/catalog.db")
    monkeypatch.setenv("MINISTACK_CATALOG", "postgresql://u@db/cloud")
    assert resolve_url(None, str(tmp_path)) == "postgresql+psycopg://u@db/cloud"
    assert resolve_url("sqlite:////x/y.db", str(tmp_path)) == "sqlite:////x/y.db"
    assert resolve_url("relative.db") == "sqlite:///" + os.path.abspath("relative.db")


def test_unsupported_backend_names_the_fix():
    with pytest.raises(CatalogUnavailable, match="use sqlite:///PATH or postgresql://"):
        Catalog("mysql://u@h/db")


def test_new_catalog_has_schema_default_project_and_seed_flavors(catalog):
    with catalog.read() as tx:
        flavors = {row["id"]: row for row in tx.all(select(tx.t.flavors))}
        assert {k: v["name"] for k, v in flavors.items()} == SEED
        assert flavors["1"]["ram"] == 512 and flavors["5"]["vcpus"] == 8 and flavors["20"]["ram"] == 768
        project = default_project(tx)
        assert project["name"] == "admin"
        names = set(tx.scalars(select(tx.t.ministack_migrations.c.name)))
    assert names == set(migrate.migration_names())
    for table in ("servers", "allocations", "volumes", "snapshots", "backups", "attachments",
                  "volume_services", "images", "networks", "server_groups", "keypairs", "quotas"):
        assert table in catalog.metadata.tables


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "catalog.db"
    catalog = open_catalog(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    catalog.dispose()


def test_reopening_applies_nothing(catalog):
    assert catalog.pending_migrations() == []
    assert catalog.upgrade() == []


def test_write_commits_and_exception_rolls_back(catalog):
    with catalog.begin() as tx:
        project = default_project(tx)["id"]
        tx.execute(insert(tx.t.quotas), {"project_id": project, "resource": "cores", "hard_limit": 5,
                                         "created_at": tx.now()})
    with pytest.raises(RuntimeError):
        with catalog.begin() as tx:
            tx.execute(insert(tx.t.quotas), {"project_id": project, "resource": "ram", "hard_limit": 5,
                                             "created_at": tx.now()})
            raise RuntimeError("boom")
    with catalog.begin(dry_run=True) as tx:
        tx.execute(insert(tx.t.quotas), {"project_id": project, "resource": "instances", "hard_limit": 1,
                                         "created_at": tx.now()})
        assert tx.scalar(select(tx.t.quotas.c.hard_limit).where(tx.t.quotas.c.resource == "instances")) == 1
    with catalog.read() as tx:
        assert set(tx.scalars(select(tx.t.quotas.c.resource))) == {"cores"}


def test_migration_from_another_range_adds_a_column(tmp_path, monkeypatch):
    """A later migration (as compute would add) changes an existing catalog in place."""
    real = migrate.migration_names()
    url = f"sqlite:///{tmp_path}/catalog.db"
    catalog = Catalog(url)
    assert catalog.upgrade() == real

    # The new migration lives in the test: model it through the same Op calls.
    from sqlalchemy import Column, String

    def extra(op):
        op.add_column("servers", Column("console_type", String(16)))

    monkeypatch.setattr(migrate, "load", lambda name: extra if name == "0150_console" else _orig_load(name))
    with catalog.engine.connect() as conn, conn.begin():
        applied = migrate.upgrade(conn, [*real, "0150_console"])
    assert applied == ["0150_console"]
    metadata = migrate.build_metadata([*real, "0150_console"])
    assert "console_type" in metadata.tables["servers"].c
    with catalog.engine.connect() as conn, conn.begin():
        assert migrate.upgrade(conn, [*real, "0150_console"]) == []
        conn.execute(select(metadata.tables["servers"].c.console_type)).all()


_orig_load = migrate.load


def test_failed_migration_leaves_nothing(tmp_path, monkeypatch):
    real = migrate.migration_names()
    from sqlalchemy import Column, Integer

    def broken(op):
        op.create_table("half_made", Column("id", Integer, primary_key=True))
        if op.applying:
            raise ValueError("bad migration")

    monkeypatch.setattr(migrate, "load", lambda name: broken if name == "0199_broken" else _orig_load(name))
    monkeypatch.setattr(migrate, "migration_names", lambda directory=None: [*real, "0199_broken"])
    catalog = Catalog(f"sqlite:///{tmp_path}/catalog.db")
    with pytest.raises(CatalogUnavailable, match="0199_broken failed: bad migration"):
        catalog.upgrade()
    with sqlite3.connect(tmp_path / "catalog.db") as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_made" not in tables and "flavors" not in tables


def test_unusable_locations_fail_with_one_message(tmp_path):
    with pytest.raises(CatalogUnavailable, match=r"cannot create /proc/nope.*: No such file or directory\. Set "
                                                 r"ministack_catalog"):
        open_catalog("/proc/nope/catalog.db")
    with pytest.raises(CatalogUnavailable, match=r"postgresql\+psycopg://bob:\*\*\*@127\.0\.0\.1:1/x is unavailable"):
        open_catalog("postgresql://bob:secret@127.0.0.1:1/x")


def test_a_held_write_lock_times_out_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path}/c.db"
    holder = open_catalog(url)
    waiter = Catalog(url, busy_timeout=0.2)
    with holder.begin():
        with pytest.raises(CatalogUnavailable, match=r"database is locked \(another playbook held the catalog's "
                                                     r"write lock for over 0\.2 s; retry\)"):
            with waiter.begin():
                pass


@pytest.mark.postgres
def test_a_held_write_lock_times_out_on_postgres(postgres_url):
    holder = open_catalog(postgres_url)
    waiter = Catalog(postgres_url, busy_timeout=0.5)
    with holder.begin():
        with pytest.raises(CatalogUnavailable, match=r"lock timeout.*write lock for over 0\.5 s; retry"):
            with waiter.begin():
                pass
    with waiter.begin():  # free again once the holder committed
        pass
