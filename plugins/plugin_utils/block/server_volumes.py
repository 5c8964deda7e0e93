# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.server_volume`` (`openstack server add volume` / `server remove volume`):
attach over iSCSI through the libvirt of the server's own host, and detach."""

from __future__ import annotations

import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, insert, select, update
except ImportError:
    pass

from .. import testpoints
from ..catalog.errors import CatalogError, InvalidInput, NotFound
from . import attach as attach_mod
from . import attachments, secrets, service, targets
from .backends import VOLUME_NAME
from .errors import BlockError
from .records import attachments_of, volume_record
from .resource import (
    IN_BETWEEN,
    BlockResource,
    by_name_or_id,
    service_for,
    set_status,
    status_abandon,
    to_catalog_error,
)


class ServerVolume(BlockResource):
    """`openstack server add volume` / `server remove volume`."""

    result_key = "attachment"

    def _server(self, tx, volume=None):
        t = tx.t.servers
        project = self.project(tx)
        live = t.c.vm_state != "deleted"
        row = by_name_or_id(tx, t, self.params["server"], project["id"], "server", live=live)
        if row is None and volume is not None:
            row = self._gone_server(tx, volume)
        if row is None:
            raise NotFound(f"No server with a name or ID of '{self.params['server']}' exists.")
        return row

    def _gone_server(self, tx, volume):
        """A deleted (or vanished) server that still holds this volume: detaching from it must
        stay possible, or nothing could ever free the volume."""
        value = self.params["server"]
        for att in attachments_of(tx, volume["id"]):
            row = tx.one_or_none(select(tx.t.servers).where(tx.t.servers.c.id == att["server_id"]))
            if row is not None and value in (row["id"], row["name"]) and row["vm_state"] == "deleted":
                return row
            if row is None and value == att["server_id"]:
                return {"id": att["server_id"], "name": att["server_id"], "host": att.get("host"),
                        "status": "DELETED", "vm_state": "deleted", "project_id": volume["project_id"]}
        return None

    def _volume(self, tx):
        t = tx.t.volumes
        project = self.project(tx)
        row = by_name_or_id(tx, t, self.params["volume"], project["id"], "volume", live=t.c.status != "deleted")
        if row is None:
            raise NotFound(f"No volume with a name or ID of '{self.params['volume']}' exists.")
        return row

    def find(self, tx):
        self._vol = self._volume(tx)
        absent = (self.params.get("state") or "present") == "absent"
        self._srv = self._server(tx, volume=self._vol if absent else None)
        t = tx.t.attachments
        row = tx.one_or_none(select(t).where(t.c.volume_id == self._vol["id"], t.c.server_id == self._srv["id"]))
        self._att = row
        if row is None:
            return None
        if row["status"] in IN_BETWEEN:
            self.busy(tx, "volume", self._vol["id"])
        return self._record(row)

    @staticmethod
    def _record(row):
        return {"id": row["volume_id"], "server_id": row["server_id"], "volume_id": row["volume_id"],
                "device": row.get("device"), "tag": None, "delete_on_termination": False,
                "attachment_id": row["id"], "host": row.get("host")}

    def desired(self, tx, current):
        device = self.params.get("device")
        if device is not None and not attach_mod.valid_device(device):
            raise InvalidInput("device", f"must look like /dev/vdb (vd + one letter b..z), got {device!r}")
        wanted = device if device is None or device.startswith("/dev/") else f"/dev/{device}"
        if current is not None and wanted and current["device"] != wanted:
            raise InvalidInput("device", f"volume is attached as {current['device']}; detach it to use {device}")
        return current or {}

    def _compute(self, tx, server):
        if not server.get("host"):
            raise InvalidInput("server", f"server {server['name']} has no host (status {server['status']}); "
                                         "attach once it is ACTIVE")
        compute = attachments.compute_service(tx, server["host"])
        if compute is None:
            raise CatalogError(f"Compute service {server['host']} of server {server['name']} is not registered.")
        return compute

    def _attacher(self, compute):
        return attachments.attacher_for(compute, self.context)

    def _domain_name(self, server):
        return server["id"]  # domains carry the server's UUID, as with Nova

    def create(self, tx, desired):
        server, volume = self._srv, self._vol
        if volume["status"] != "available" or attachments_of(tx, volume["id"]):
            holders = [a["server_id"] for a in attachments_of(tx, volume["id"])]
            raise InvalidInput("volume", f"Invalid volume: volume {volume['id']} status must be 'available' to "
                                         f"attach, but it is '{volume['status']}'"
                                         + (f" (attached to server {', '.join(holders)})" if holders else "")
                                         + ". Detach it first; multiattach is not supported.")
        if server.get("status") not in ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"):
            raise InvalidInput("server", f"Cannot 'attach_volume' instance {server['id']} while it is in "
                                         f"vm_state {server.get('vm_state')}")
        key = self.secret_key()
        secrets._check_key(key)
        compute = self._compute(tx, server)
        svc = service_for(tx, volume["host"])
        attacher = self._attacher(compute)
        initiator = attach_mod.initiator_name(compute["host"])
        device = self.params.get("device")
        if device and not device.startswith("/dev/"):
            device = f"/dev/{device}"
        if self.check_mode:
            try:
                device = device or attach_mod.next_device(attacher.domain(self._domain_name(server)).XMLDesc(0))
            except BlockError as err:
                raise to_catalog_error(err) from None
            self._insert(tx, server, volume, compute, device, None, None)
            return
        target = service.host_target(svc)
        user, secret = targets.generate_chap()
        path = service.host_backend(svc).path(VOLUME_NAME.format(volume["id"]))
        attachment_id = self._insert(tx, server, volume, compute, device, None, None, status="attaching")
        made = {}

        def work(undo):
            undo.add(f"removing the target of volume {volume['id']}", lambda: target.unexport(volume["id"]))
            made["info"] = target.export(volume["id"], path, user, secret, initiator_names=[initiator],
                                         initiator_addresses=[service.initiator_address(svc, compute)])
            # Undone newest first, every step even when one fails (workflow.Undo): a detach that
            # times out still lets the secret and the target (with its CHAP account) go.
            undo.add(f"removing the libvirt secret of volume {volume['id']} on {compute['host']}",
                     lambda: attacher.delete_secret(volume["id"]))
            undo.add(f"unplugging volume {volume['id']} from server {server['id']}",
                     lambda: attacher.detach(self._domain_name(server), volume["id"]))
            testpoints.reached("host-work")
            made["device"] = attacher.attach(self._domain_name(server), volume["id"], made["info"], secret,
                                             device=device, initiator=initiator)

        def done(tx):
            info = made["info"]
            connection = {k: v for k, v in info.items() if k != "provider_location"}
            connection["initiator"] = initiator
            set_status(tx, "attachments", attachment_id, status="attached", device=made["device"],
                       connection_info=connection)
            set_status(tx, "volumes", volume["id"], status="in-use", attach_status="attached", status_reason=None,
                       provider_location=info.get("provider_location"),
                       provider_auth=f"CHAP {user} {secrets.encrypt(key, secret)}")

        def failed(tx, reason, undone):
            # Nothing half-made: a cleanly undone attach leaves the volume as it was.
            if undone:
                tx.execute(delete(tx.t.attachments).where(tx.t.attachments.c.id == attachment_id))
                set_status(tx, "volumes", volume["id"], status="available", attach_status="detached",
                           status_reason=reason)
            else:
                set_status(tx, "attachments", attachment_id, status="error_attaching")
                set_status(tx, "volumes", volume["id"], status="error", status_reason=reason)

        self.host_work(tx, "volume", volume["id"], "attaching", work, failed, done=done, abandon=[
            status_abandon("volumes", volume["id"]),
            {"table": "attachments", "id": attachment_id, "values": {"status": "error_attaching"}}])

    def _insert(self, tx, server, volume, compute, device, info, auth, status="attached"):
        now = tx.now()
        connection = {k: v for k, v in (info or {}).items() if k != "provider_location"}
        connection["initiator"] = attach_mod.initiator_name(compute["host"])
        attachment_id = str(uuid.uuid4())
        tx.execute(insert(tx.t.attachments), {
            "id": attachment_id, "volume_id": volume["id"], "server_id": server["id"], "host": compute["host"],
            "device": device, "attach_mode": "rw", "status": status, "connection_info": connection,
            "created_at": now,
        })
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == volume["id"]).values(
            status="in-use" if status == "attached" else status, attach_status=status, updated_at=now,
            provider_location=(info or {}).get("provider_location"), provider_auth=auth))
        return attachment_id

    def update(self, tx, current, desired, changes):  # pragma: no cover - nothing is compared
        pass

    def delete(self, tx, current):
        volume = self._vol
        if self._att["status"] in IN_BETWEEN:
            raise InvalidInput("state", f"Invalid volume: Unable to detach volume. Volume status must be 'in-use' "
                                        f"and attach_status must be 'attached' to detach (volume {volume['id']} is "
                                        f"{self._att['status']}).")
        plan = attachments.plan_for_attachment(tx, current["attachment_id"])
        if self.check_mode:
            attachments.free(tx, [plan])
            return
        set_status(tx, "attachments", current["attachment_id"], status="detaching")
        set_status(tx, "volumes", volume["id"], status="detaching")
        gone = self._srv.get("vm_state") == "deleted"

        def work(_undo):
            attachments.raise_failures(f"Detaching volume {volume['id']} failed",
                                       attachments.release_on_hosts([plan], self.context, domain_gone=gone))

        def failed(tx, reason, _undone):
            set_status(tx, "attachments", current["attachment_id"], status="error_detaching")
            set_status(tx, "volumes", volume["id"], status="error", status_reason=reason)

        self.host_work(tx, "volume", volume["id"], "detaching", work, failed,
                       done=lambda tx: attachments.free(tx, [plan]), abandon=[
                           status_abandon("volumes", volume["id"]),
                           {"table": "attachments", "id": current["attachment_id"],
                            "values": {"status": "error_detaching"}}])

    def _volume_and_attached(self, tx, outcome):
        # The volume as it is now, and volumes_attached as the server shows it.
        vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == self._vol["id"]))
        outcome["volume"] = volume_record(tx, vol)
        outcome["volumes_attached"] = [{"id": a["volume_id"]} for a in tx.all(
            select(tx.t.attachments).where(tx.t.attachments.c.server_id == self._srv["id"]))]

    def run(self, tx):
        if (self.params.get("state") or "present") == "present":
            current = self.find(tx)
            if self._att is not None and self._att["status"] == "error_attaching" and not self.wait_for \
                    and "attaching was interrupted" in (self._vol.get("status_reason") or ""):
                outcome = self._attach_again(tx, current)
                self._volume_and_attached(tx, outcome)
                return outcome
            self.wait_for = None
        outcome = super().run(tx)
        self._volume_and_attached(tx, outcome)
        return outcome

    def _attach_again(self, tx, before):
        """An attach that a killed run never finished (settled to error_attaching): the same task
        run again first removes what it may have left (the disk in the domain, the libvirt secret,
        the target and its CHAP account), then attaches again: the run converges."""
        plan = attachments.plan_for_attachment(tx, self._att["id"])
        volume_id = self._vol["id"]
        reason = self._vol["status_reason"]
        tx.execute(delete(tx.t.attachments).where(tx.t.attachments.c.id == self._att["id"]))
        set_status(tx, "volumes", volume_id, status="available", attach_status="detached", status_reason=None,
                   provider_location=None, provider_auth=None)
        self._vol = tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == volume_id))
        self.warnings.append(f"Volume {volume_id}: its attach to server {self._srv['id']} was interrupted "
                             f"({reason}); attached it again")
        if not self.check_mode:
            def cleanup(_undo):
                attachments.raise_failures(f"Removing what the interrupted attach of volume {volume_id} left",
                                           attachments.release_on_hosts([plan], self.context))

            def cleanup_failed(tx, reason, _undone):
                set_status(tx, "volumes", volume_id, status="error", status_reason=reason)

            self.host_work(tx, "volume", volume_id, "attaching", cleanup, cleanup_failed,
                           abandon=[status_abandon("volumes", volume_id)])
        self.create(tx, {})
        return self.outcome(True, before, self.find(tx) if self.check_mode else before)

    def report(self, tx, outcome):
        super().report(tx, outcome)
        self._volume_and_attached(tx, outcome)
