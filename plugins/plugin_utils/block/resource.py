# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the block resources share (volumes.py, snapshots.py, server_volumes.py,
volume_services.py): the base class, the status helpers of the transaction rule, lookups.

The transaction rule (docs/architecture.md): transaction 1 validates and records the
in-between status (``creating``, ``extending``, ``deleting``, ``attaching``, ``detaching``)
with a task naming this run as owner; the host work (lvcreate, tgt-admin, libvirt hot-plug)
runs after the commit with no catalog lock, each step registering its undo; transaction 2
records the outcome. A failure runs every undo step and leaves the status ``error`` with the
reason in ``status_reason`` (a failed attach whose undo succeeded leaves it ``available``).
Another playbook meanwhile sees the in-between status and Cinder's refusals. In check mode
nothing runs on any host.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import update
except ImportError:
    pass

from ..catalog import lookup
from ..catalog.errors import CatalogError, NoValidHost
from ..catalog.projects import find_project
from ..catalog.resource import Resource
from . import service
from .errors import NoValidBackend

#: statuses that only a run in progress shows (a killed run's is settled to error)
IN_BETWEEN = ("creating", "extending", "deleting", "attaching", "detaching")


def status_abandon(table, row_id, **values):
    return {"table": table, "id": row_id, "values": {"status": "error", "status_reason": "{reason}", **values}}


def set_status(tx, table, row_id, **values):
    t = tx.tables[table]
    values.setdefault("updated_at", tx.now())
    tx.execute(update(t).where(t.c.id == row_id).values(**values))


def failed_to(table, row_id, status="error"):
    """failed(tx, reason, undone) of a host work: the row takes ``status`` with the reason."""
    def failed(tx, reason, _undone):
        set_status(tx, table, row_id, status=status, status_reason=reason)
    return failed


def to_catalog_error(err):
    """Block errors become catalog errors: the action base reports their text as-is."""
    if isinstance(err, NoValidBackend):
        return NoValidHost(str(err).replace("No valid backend was found. ", ""))
    return CatalogError(str(err))


def by_name_or_id(tx, table, value, project_id, kind, live=None):
    where = [] if live is None else [live]
    if project_id is not None and "project_id" in table.c:
        where.append(table.c.project_id == project_id)
    return lookup.find(tx, table, value, kind, where=where)


def service_for(tx, host):
    row = service.service_by_host(tx, host)
    if row is None:
        raise CatalogError(f"Volume service {host} is not registered any more: run the block_host role on it.")
    return row


class BlockResource(Resource):
    def project(self, tx):
        return find_project(tx, self.params.get("project"))

    def secret_key(self):
        return self.context.get("secret_key")
