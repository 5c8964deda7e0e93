# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding what a server request names: flavors, keypairs, servers and compute services."""

from __future__ import annotations

from typing import Optional

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import select
except ImportError:
    pass

from ..catalog import Conflict, NotFound, lookup


def usable_flavor(tx, name_or_id: str) -> dict:
    """The flavor a server is built with: found by id or name (catalog.lookup), enabled, with its extra specs."""
    row = lookup.find(tx, tx.t.flavors, name_or_id, "flavor", required=True)
    if row.get("disabled"):
        raise Conflict(f"Flavor {name_or_id} is disabled and cannot be used.")
    specs = tx.t.flavor_extra_specs
    row["extra_specs"] = {r["key"]: r["value"] for r in tx.all(select(specs).where(specs.c.flavor_id == row["id"]))}
    return row


def find_keypair(tx, name: str, project_id: str) -> dict:
    k = tx.t.keypairs
    row = tx.one_or_none(select(k).where(k.c.name == name, k.c.project_id == project_id))
    if row is None:
        raise NotFound(f"Invalid key_name provided: keypair {name} was not found in the project.")
    return row


def live(t):
    return t.c.vm_state != "deleted"


def find_server_row(tx, name_or_id: str, project_id: Optional[str] = None) -> Optional[dict]:
    s = tx.t.servers
    return lookup.find(tx, s, name_or_id, "server", where=[live(s)],
                       names_where=[s.c.project_id == project_id] if project_id else [])


def require_server(tx, name_or_id: str) -> dict:
    s = tx.t.servers
    return lookup.find(tx, s, name_or_id, "server", where=[live(s)], required=True)


def service_row(tx, host: str) -> dict:
    c = tx.t.compute_services
    row = tx.one_or_none(select(c).where(c.c.host == host))
    if row is None:
        raise NotFound(f"Compute host {host} could not be found.")
    return row
