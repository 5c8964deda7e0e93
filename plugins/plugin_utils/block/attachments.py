# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volume attachments as the other services use them (Cinder's attachment API, for Nova).

``server_volume`` and the server's delete both come here, so that a volume is always
attached on the libvirt of the server's own host and always released the same way:

* ``plan_for_server`` / ``plan_for_attachment`` (in a catalog transaction) read what a
  release needs: the attachment, its volume, the volume service and the compute service;
* ``release_on_hosts`` (no catalog lock held) unplugs the disk from the domain (or, when the
  domain is gone, only drops the libvirt secret), then removes the target and its CHAP
  account. Every step runs even when one fails; the failures are returned, not raised;
* ``free`` (in a catalog transaction) deletes the attachment rows and marks the volumes
  ``available``.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, select, update
except ImportError:
    pass

from . import attach as attach_mod
from . import service
from .errors import BlockError, NotFound

LOCAL_URI = "qemu:///system"


def compute_uri(compute: dict | None) -> str:
    """The libvirt URI of a compute service row (``libvirt_uri``; local when not recorded)."""
    return (compute or {}).get("libvirt_uri") or LOCAL_URI


def attacher_for(compute: dict | None, context: dict | None = None) -> attach_mod.LibvirtAttacher:
    """What hot-plugs volumes on the server's compute host: its hypervisor driver's attacher
    (one libvirt connection per host, shared with compute). A driver that cannot attach volumes
    (LXC) raises NotSupported."""
    from ..compute.drivers import driver_for

    context = context or {}
    service = dict(compute or {}, libvirt_uri=compute_uri(compute))
    return driver_for(service).volume_attacher(cache=context.get("disk_cache", "none"),
                                               io=context.get("disk_io", "native"))


def compute_service(tx, host: str | None) -> dict | None:
    if not host:
        return None
    cs = tx.t.compute_services
    return tx.one_or_none(select(cs).where(cs.c.host == host))


def _plan(tx, row: dict) -> dict:
    volume = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == row["volume_id"]))
    return {
        "attachment": row,
        "volume": volume,
        "volume_service": service.service_by_host(tx, volume["host"]) if volume and volume.get("host") else None,
        "compute_service": compute_service(tx, row.get("host")),
    }


def plan_for_server(tx, server_id: str) -> list[dict]:
    """What releasing every volume of a server needs (read in a transaction)."""
    t = tx.t.attachments
    return [_plan(tx, row) for row in tx.all(select(t).where(t.c.server_id == server_id).order_by(t.c.created_at))]


def plan_for_attachment(tx, attachment_id: str) -> dict | None:
    t = tx.t.attachments
    row = tx.one_or_none(select(t).where(t.c.id == attachment_id))
    return _plan(tx, row) if row else None


def release_on_hosts(plans: list[dict], context: dict | None = None, domain_gone: bool = False) -> list[str]:
    """Unplug each volume from its server's domain, drop the libvirt secret, remove the target
    and its CHAP account. Runs every step even when one fails; returns the failures."""
    errors: list[str] = []
    for plan in plans:
        att = plan["attachment"]
        volume_id, server_id = att["volume_id"], att["server_id"]
        if plan["compute_service"] is not None:
            attacher = attacher_for(plan["compute_service"], context)
            try:
                if domain_gone:
                    attacher.delete_secret(volume_id)
                else:
                    attacher.detach(server_id, volume_id)
            except NotFound:
                try:  # the domain is gone already: only its secret is left
                    attacher.delete_secret(volume_id)
                except Exception as err:
                    errors.append(f"libvirt secret of volume {volume_id} on {att.get('host')}: {err}")
            except Exception as err:
                errors.append(f"detaching volume {volume_id} from server {server_id} on {att.get('host')}: {err}")
        if plan["volume_service"] is not None:
            try:
                service.host_target(plan["volume_service"]).unexport(volume_id)
            except Exception as err:
                errors.append(f"removing the target of volume {volume_id} on {plan['volume_service']['host']}: {err}")
    return errors


def free(tx, plans: list[dict]) -> list[str]:
    """Delete the attachment rows; a volume with no attachment left becomes available."""
    t = tx.t.attachments
    freed = []
    for plan in plans:
        att = plan["attachment"]
        tx.execute(delete(t).where(t.c.id == att["id"]))
        left = tx.all(select(t.c.id).where(t.c.volume_id == att["volume_id"]))
        if not left:
            tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == att["volume_id"]).values(
                status="available", attach_status="detached", provider_location=None, provider_auth=None,
                updated_at=tx.now()))
            freed.append(att["volume_id"])
    return freed


def raise_failures(what: str, errors: list[str]) -> None:
    if errors:
        raise BlockError(f"{what}: " + "; ".join(errors))
