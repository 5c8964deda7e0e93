# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups (Cinder's chunked Swift format) need more than the core table holds.

* backups: ``host`` (the volume service whose host read the volume), ``metadata``
  (properties), ``compression`` (zlib | none), ``progress`` (percent) and ``bytes_done``
  while ``creating``/``restoring``, ``owner`` and ``expires_at`` (no longer written: the
  core's tasks table, 0003_tasks, holds who works on a backup), and ``cleanup_pending`` (objects of a failed run
  that the object store did not let us remove yet).
* backup_restores: which backup was restored into which volume, so that a second run of a
  restore task changes nothing.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import JSON, BigInteger, Boolean, Column, DateTime, Integer, String, Text
except ImportError:
    pass


def upgrade(op):
    op.add_column("backups", Column("host", String(255)))
    op.add_column("backups", Column("metadata", JSON))
    op.add_column("backups", Column("compression", String(16)))
    op.add_column("backups", Column("progress", Integer))
    op.add_column("backups", Column("bytes_done", BigInteger))
    op.add_column("backups", Column("owner", JSON))
    op.add_column("backups", Column("expires_at", DateTime))
    op.add_column("backups", Column("cleanup_pending", Boolean))
    op.create_table(
        "backup_restores",
        Column("id", String(36), primary_key=True),
        Column("backup_id", String(36), nullable=False, index=True),
        Column("volume_id", String(36), nullable=False, index=True),
        Column("status", String(32), nullable=False),
        Column("fail_reason", Text),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=True),
    )
