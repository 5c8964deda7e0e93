# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versioned migrations, recorded by name and applied in name order.

A migration is a file ``migrations/NNNN_what.py`` with ``def upgrade(op):``. The same
function serves twice:

* to build the in-memory schema (``op.applying`` is False): every migration runs, in
  name order, and only the schema calls (create_table, add_column, create_index) take
  effect. The result is the SQLAlchemy ``MetaData`` the library queries with, so a
  column added by a later migration is visible without editing any other file;
* to change a database (``op.applying`` is True): only the migrations not yet recorded
  in ``ministack_migrations`` run, and their DDL and data steps are executed.

Number ranges: 0001-0099 catalog core, 0100-0199 compute, 0200-0299 block,
0300-0399 object store and images. Never edit a migration once committed; add one.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

try:
    from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, insert, select
    from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from .errors import CatalogUnavailable

MIGRATIONS_TABLE = "ministack_migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.py$")
_PACKAGE = __name__.rsplit(".", 1)[0] + ".migrations"
_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


def migrations_table(metadata: MetaData) -> Table:
    return Table(
        MIGRATIONS_TABLE,
        metadata,
        Column("name", String(255), primary_key=True),
        Column("applied_at", DateTime, nullable=False),
    )


def migration_names(directory: str = _DIRECTORY) -> list[str]:
    """Migration module names in the order they apply (by name)."""
    names = [f[:-3] for f in os.listdir(directory) if _NAME.match(f)]
    return sorted(names)


def load(name: str) -> Callable:
    module = importlib.import_module(f"{_PACKAGE}.{name}")
    upgrade = getattr(module, "upgrade", None)
    if not callable(upgrade):
        raise CatalogUnavailable(f"Catalog migration {name} has no upgrade(op) function.")
    return upgrade


class Op:
    """What a migration may do. Schema calls always shape ``metadata``; the database is
    touched only when ``connection`` is given (the migration is being applied)."""

    def __init__(self, metadata: MetaData, connection=None):
        self.metadata = metadata
        self.connection = connection

    @property
    def applying(self) -> bool:
        return self.connection is not None

    @property
    def tables(self):
        return self.metadata.tables

    def create_table(self, name: str, *columns, **kwargs) -> Table:
        table = Table(name, self.metadata, *columns, **kwargs)
        if self.applying:
            self.connection.execute(CreateTable(table))
            for index in table.indexes:
                self.connection.execute(CreateIndex(index))
        return table

    def add_column(self, table_name: str, column: Column) -> None:
        """Add a nullable column, or one with a server_default (SQLite cannot add a NOT
        NULL column without a default)."""
        table = self.metadata.tables[table_name]
        table.append_column(column)
        if self.applying:
            dialect = self.connection.dialect
            spec = CreateColumn(column).compile(dialect=dialect)
            quote = dialect.identifier_preparer.quote
            self.connection.exec_driver_sql(f"ALTER TABLE {quote(table_name)} ADD COLUMN {spec}")

    def create_index(self, name: str, table_name: str, columns: Iterable[str], unique: bool = False) -> None:
        table = self.metadata.tables[table_name]
        index = Index(name, *(table.c[c] for c in columns), unique=unique)
        if self.applying:
            self.connection.execute(CreateIndex(index))

    def bulk_insert(self, table_name: str, rows: list[dict]) -> None:
        if self.applying and rows:
            self.connection.execute(insert(self.metadata.tables[table_name]), rows)

    def run(self, step: Callable) -> None:
        """Run ``step(connection, tables)`` for data changes; skipped when only modelling."""
        if self.applying:
            step(self.connection, self.metadata.tables)


def build_metadata(names: list[str] | None = None) -> MetaData:
    """The current schema as SQLAlchemy objects: every migration, modelled in order."""
    metadata = MetaData()
    migrations_table(metadata)
    op = Op(metadata)
    for name in names if names is not None else migration_names():
        load(name)(op)
    return metadata


def applied(connection, metadata: MetaData) -> set[str]:
    table = metadata.tables[MIGRATIONS_TABLE]
    return set(connection.scalars(select(table.c.name)))


def upgrade(connection, names: list[str] | None = None) -> list[str]:
    """Apply the migrations not yet recorded, inside the caller's (locked) transaction.

    Each pending migration runs against a metadata holding exactly the tables of the
    migrations before it, so that its DDL sees the schema as it was at that point.
    Returns the names applied.
    """
    names = names if names is not None else migration_names()
    metadata = MetaData()
    table = migrations_table(metadata)
    table.create(connection, checkfirst=True)
    done = applied(connection, metadata)
    modelling = Op(metadata)
    executing = Op(metadata, connection)
    newly = []
    for name in names:
        step = load(name)
        if name in done:
            step(modelling)
            continue
        try:
            step(executing)
        except Exception as exc:  # the transaction rolls back: no half-applied migration
            raise CatalogUnavailable(f"Catalog migration {name} failed: {exc}") from exc
        connection.execute(
            insert(table), {"name": name, "applied_at": datetime.now(timezone.utc).replace(tzinfo=None)}
        )
        newly.append(name)
    return newly
