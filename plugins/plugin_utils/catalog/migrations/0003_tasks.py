# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction rule's records (docs/architecture.md, "Transactions").

* tasks: one row per piece of host work in progress: which resource, what is being done
  (``creating``, ``attaching`` ...), who does it (controller host, process id and the
  process's start time, so that a reused pid is not mistaken for the owner), until when
  (``expires_at``), and what the resource becomes when the work is abandoned (``abandon``:
  a list of ``{"table", "id", "values"}`` updates, applied with the reason).
* volumes.status_reason, snapshots.status_reason: why a volume or snapshot is in ``error``.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Text
except ImportError:
    pass


def upgrade(op):
    op.create_table(
        "tasks",
        Column("id", String(36), primary_key=True),
        Column("kind", String(32), nullable=False, index=True),  # volume, snapshot, server, attachment ...
        Column("resource_id", String(36), nullable=False, index=True),
        Column("action", String(32), nullable=False),  # the in-between status shown meanwhile
        Column("owner_host", String(255), nullable=False),
        Column("owner_pid", Integer, nullable=False),
        Column("owner_started", Float),  # the owner process's start (seconds since the epoch)
        Column("started_at", DateTime, nullable=False),
        Column("expires_at", DateTime, nullable=False),
        Column("abandon", JSON),
    )
    op.add_column("volumes", Column("status_reason", Text))
    op.add_column("snapshots", Column("status_reason", Text))
