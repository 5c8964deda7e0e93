# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening the catalog, and its transactions.

Concurrency model (the reason for each choice):

* Writers are serialised per catalog. On SQLite every write transaction starts with
  ``BEGIN IMMEDIATE`` (the database's single write lock, waited for up to the busy
  timeout); on PostgreSQL it takes a transaction-scoped advisory lock. A whole
  read-compare-apply (a module's task, a claim) therefore sees no concurrent writer, so
  rules that span rows ("a host is in one availability zone", "capacity left") hold when
  two playbooks run at once. Write transactions are short: nothing slow (booting a guest,
  copying a volume) may run inside one.
* Claims additionally lock the host's row (``SELECT ... FOR UPDATE`` on PostgreSQL), so a
  claim stays safe even on a connection that skipped the advisory lock.
* Readers never block and are never blocked (SQLite WAL, PostgreSQL MVCC).
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from types import SimpleNamespace

try:
    from sqlalchemy import create_engine, event, func, select, text
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    HAS_SQLALCHEMY = True
except ImportError:  # reported by Catalog(): SQLAlchemy is in requirements.txt
    HAS_SQLALCHEMY = False

from . import migrate
from .errors import CatalogError, CatalogUnavailable

ENV_URL = "MINISTACK_CATALOG"
DEFAULT_DIRNAME = ".ministack"
DEFAULT_FILENAME = "catalog.db"
BUSY_TIMEOUT_S = 30.0

# Arbitrary, fixed keys for PostgreSQL advisory locks ("mini" and "migr" in ASCII).
WRITE_LOCK_KEY = 0x6D696E69
MIGRATION_LOCK_KEY = 0x6D696772


def resolve_url(url: str | None = None, base_dir: str | None = None) -> str:
    """The catalog URL: the argument, else $MINISTACK_CATALOG, else a SQLite file.

    The default file is ``<base_dir>/.ministack/catalog.db`` when a base directory is
    given (action plugins pass the inventory's directory, so every playbook run against
    one inventory shares one cloud), else ``~/.ministack/catalog.db``.
    A bare path (no ``://``) is taken as a SQLite file.
    """
    chosen = url or os.environ.get(ENV_URL)
    if not chosen:
        root = base_dir or os.path.expanduser("~")
        chosen = os.path.join(root, DEFAULT_DIRNAME, DEFAULT_FILENAME)
    if "://" not in chosen:
        chosen = "sqlite:///" + os.path.abspath(os.path.expanduser(chosen))
    if chosen.startswith("postgresql://") or chosen.startswith("postgres://"):
        # psycopg 3 is the driver we ship and test; SQLAlchemy would otherwise pick psycopg2.
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _prepare_sqlite_file(database: str) -> None:
    # The catalog holds encrypted secrets and the cloud's layout: keep it private.
    directory = os.path.dirname(os.path.abspath(database))
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    if not os.path.exists(database):
        os.close(os.open(database, os.O_CREAT | os.O_RDWR, 0o600))


def _sqlite_engine(url, busy_timeout):
    database = url.database
    if database and database != ":memory:":
        try:
            _prepare_sqlite_file(database)
        except OSError as err:
            raise CatalogUnavailable(
                f"Catalog {url}: cannot create {err.filename or database}: {err.strerror}. "
                "Set ministack_catalog (or the option catalog, or MINISTACK_CATALOG) to a writable place."
            ) from None
    # NullPool: every transaction gets a fresh connection, so no connection ever carries a
    # half-finished transaction between callers; opening a SQLite file costs microseconds.
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control from the sqlite3 module, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        mode = connection.get_execution_options().get("ministack_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _space_hint(database) -> str:
    """Why SQLite says "disk I/O error": most often no room left for its WAL or its index."""
    directory = os.path.dirname(os.path.abspath(database or "."))
    try:
        stat = os.statvfs(directory)
    except OSError:
        return ""
    free = stat.f_bavail * stat.f_frsize
    if free >= 1024 * 1024:
        return ""
    return (f" (the file system of {directory} is full: {free} bytes free. Free some space and retry; what was "
            "committed before is intact)")


def _postgres_engine(url, busy_timeout):
    return create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": int(busy_timeout)})


class Tx:
    """One catalog transaction: a SQLAlchemy connection plus the schema's tables.

    ``tx.t.flavors`` (or ``tx.tables["flavors"]``) is the Table; ``tx.execute`` runs a
    statement. Everything done through one Tx commits together or not at all.
    """

    def __init__(self, catalog: Catalog, connection, writable: bool):
        self.catalog = catalog
        self.connection = connection
        self.writable = writable
        self.tables = catalog.metadata.tables
        self.t = catalog.t

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    def execute(self, statement, parameters=None):
        return self.connection.execute(statement, parameters)

    def scalar(self, statement, parameters=None):
        return self.connection.scalar(statement, parameters)

    def scalars(self, statement, parameters=None):
        return self.connection.scalars(statement, parameters)

    def one_or_none(self, statement, parameters=None) -> dict | None:
        row = self.connection.execute(statement, parameters).mappings().one_or_none()
        return dict(row) if row is not None else None

    def all(self, statement, parameters=None) -> list[dict]:
        return [dict(row) for row in self.connection.execute(statement, parameters).mappings()]

    def now(self) -> datetime:
        return utcnow()


class Catalog:
    """An opened, migrated catalog. Cheap to keep; each transaction opens a connection."""

    def __init__(self, url: str, busy_timeout: float = BUSY_TIMEOUT_S):
        if not HAS_SQLALCHEMY:
            raise CatalogUnavailable(
                "The catalog needs SQLAlchemy (and psycopg for PostgreSQL) in the controller's Python: "
                "pip install -r requirements.txt"
            )
        self.url = make_url(url)
        self.busy_timeout = busy_timeout
        backend = self.url.get_backend_name()
        if backend == "sqlite":
            self.engine = _sqlite_engine(self.url, busy_timeout)
        elif backend == "postgresql":
            self.engine = _postgres_engine(self.url, busy_timeout)
        else:
            raise CatalogUnavailable(
                f"Catalog URL {self.display_url}: backend {backend!r} is not supported; "
                "use sqlite:///PATH or postgresql://USER@HOST/DB."
            )
        self.metadata = migrate.build_metadata()
        self.t = SimpleNamespace(**self.metadata.tables)

    @property
    def display_url(self) -> str:
        """The URL without its password, fit for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    # -- transactions -----------------------------------------------------------------
    def _connect(self, write: bool):
        try:
            return self.engine.connect()
        except sa_exc.OperationalError:
            fallback = None if write else self._read_only_engine()
            if fallback is None:
                raise
            return fallback.connect()

    def _read_only_engine(self):
        """A SQLite catalog whose file system is full cannot open its WAL index, even to read.
        When no WAL is left (its last writer checkpointed it: the file alone holds every commit),
        reading the file as immutable is exact: reads go on while writes fail."""
        if self.backend != "sqlite" or not self.url.database or self.url.database == ":memory:":
            return None
        wal = self.url.database + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            return None
        if not _space_hint(self.url.database):  # not a full disk: report the real error
            return None
        return create_engine(f"sqlite:///file:{os.path.abspath(self.url.database)}?mode=ro&immutable=1&uri=true",
                             poolclass=NullPool)

    @contextmanager
    def _connection(self, write: bool):
        try:
            with self._connect(write) as connection:
                if self.backend == "sqlite":
                    connection.execution_options(ministack_begin="IMMEDIATE" if write else "DEFERRED")
                yield connection
        except CatalogError:
            raise
        except sa_exc.OperationalError as err:
            reason = str(err.orig).strip()
            if "locked" in reason or "lock timeout" in reason:
                reason += f" (another playbook held the catalog's write lock for over {self.busy_timeout:g} s; retry)"
            elif self.backend == "sqlite" and ("I/O error" in reason or "full" in reason):
                reason += _space_hint(self.url.database)
            raise CatalogUnavailable(f"Catalog {self.display_url} is unavailable: {reason}") from err
        except sa_exc.DBAPIError as err:
            raise CatalogError(f"Catalog {self.display_url} refused the change: {err.orig}") from err

    @contextmanager
    def begin(self, dry_run: bool = False):
        """A write transaction (``with catalog.begin() as tx:``). Commits on success,
        rolls back on any exception, and always rolls back when ``dry_run`` (check mode:
        the same code runs, nothing is kept)."""
        with self._connection(write=True) as connection:
            transaction = connection.begin()
            try:
                if self.backend == "postgresql":
                    connection.execute(text(f"SET LOCAL lock_timeout = '{int(self.busy_timeout * 1000)}ms'"))
                    connection.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
                yield Tx(self, connection, writable=True)
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()

    @contextmanager
    def read(self):
        """A read-only snapshot (``with catalog.read() as tx:``); never blocks writers."""
        with self._connection(write=False) as connection:
            if self.backend == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin() as transaction:
                if self.backend == "postgresql":
                    connection.execute(text("SET TRANSACTION READ ONLY"))
                yield Tx(self, connection, writable=False)
                transaction.rollback()

    # -- schema -------------------------------------------------------------------------
    def pending_migrations(self) -> list[str]:
        wanted = migrate.migration_names()
        with self._connection(write=False) as connection, connection.begin():
            if not self.engine.dialect.has_table(connection, migrate.MIGRATIONS_TABLE):
                return wanted
            done = migrate.applied(connection, self.metadata)
        return [name for name in wanted if name not in done]

    def upgrade(self) -> list[str]:
        """Apply pending migrations, once, even when several processes open a new catalog
        at the same moment (they queue on the write lock, then find nothing to do)."""
        if not self.pending_migrations():
            return []
        with self._connection(write=True) as connection:
            with connection.begin():
                if self.backend == "postgresql":
                    connection.execute(text(f"SET LOCAL lock_timeout = '{int(self.busy_timeout * 1000)}ms'"))
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
                return migrate.upgrade(connection)

    def dispose(self) -> None:
        self.engine.dispose()


_OPENED: dict[str, Catalog] = {}
_OPEN_LOCK = threading.Lock()


def open_catalog(url: str | None = None, base_dir: str | None = None, busy_timeout: float = BUSY_TIMEOUT_S) -> Catalog:
    """Open (creating and migrating when needed) the catalog chosen by ``resolve_url``."""
    resolved = resolve_url(url, base_dir)
    with _OPEN_LOCK:
        catalog = _OPENED.get(resolved)
        if catalog is None:
            catalog = Catalog(resolved, busy_timeout=busy_timeout)
            catalog.upgrade()
            _OPENED[resolved] = catalog
    return catalog
