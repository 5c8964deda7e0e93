"""A throwaway PostgreSQL database on the server scripts/daemons.sh starts (localhost:5432).

A role ``ministack_test`` (password login over TCP, CREATEDB) is made once through the
postgres OS user; each test gets its own database, dropped afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

ROLE = "ministack_test"
PASSWORD = "ministack_test_pw"
HOST = "127.0.0.1"
PORT = 5432


def _psql_as_postgres(sql: str) -> str:
    return subprocess.run(
        ["su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -tAc "{sql}"'],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout


def server_available() -> bool:
    if shutil.which("psql") is None or shutil.which("su") is None:
        return False
    try:
        _psql_as_postgres("SELECT 1")
    except (subprocess.SubprocessError, OSError):
        return False
    return True


def ensure_role() -> None:
    exists = _psql_as_postgres(f"SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'").strip()
    if not exists:
        _psql_as_postgres(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'")


def create_database() -> tuple[str, str]:
    """(sqlalchemy url, database name) of a new empty database owned by the test role."""
    import psycopg

    ensure_role()
    name = "ministack_t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(host=HOST, port=PORT, user=ROLE, password=PASSWORD, dbname="postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"postgresql+psycopg://{ROLE}:{PASSWORD}@{HOST}:{PORT}/{name}", name


def drop_database(name: str) -> None:
    # As the superuser: FORCE must also end an autovacuum worker that happens to be in the
    # new database, and the test role may not ("must be a member of the role whose process is
    # being terminated"): that made the teardown fail now and then.
    _psql_as_postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# The catalog fixtures both catalog conftests (unit and integration) import.
@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/catalog.db"


@pytest.fixture
def postgres_url():
    if not server_available():
        pytest.fail("PostgreSQL is not running: start it with scripts/daemons.sh start")
    url, name = create_database()
    yield url
    drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request):
    """The same test on both backends."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
