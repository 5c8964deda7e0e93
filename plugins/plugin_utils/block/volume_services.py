# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.volume_service`` and ``volume_service_info``: a block host's cinder-volume
service (registered by the block_host role) and its measured capacity."""

from __future__ import annotations

import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from ..catalog.errors import InvalidInput
from ..catalog.hosts import service_down_time
from ..catalog.resource import require_int, require_name
from . import runner, service, targets
from .errors import BlockError
from .heartbeat import heartbeat
from .resource import BlockResource


def _connection(value):
    """The registered way to reach a block host, normalised by the one host runner."""
    try:
        return runner.connection_spec(value or {"connection": "local"})
    except runner.ConnectionSpecError as err:
        raise InvalidInput("connection", str(err)) from None


class VolumeService(BlockResource):
    """Registers a block host's cinder-volume service (the block_host role calls it)."""

    result_key = "service"
    compared = ("zone", "status", "backend", "volume_backend_name", "target_helper", "target_ip",
                "disabled_reason", "_config")

    def find(self, tx):
        row = service.service_by_host(tx, self.params["host"])
        self._row = row
        if row is None:
            return None
        record = service.service_record(row, now=tx.now(), down_time=service_down_time())
        record["_config"] = {"connection": row.get("connection") or {}, "backend_config": row.get("backend_config")
                             or {}, "volume_group": row.get("volume_group"), "target_port": row.get("target_port")}
        return record

    def desired(self, tx, current):
        p = self.params
        host = require_name("host", p["host"])
        if "@" not in host:
            raise InvalidInput("host", f"must be '<node>@<backend>' as Cinder names volume services, got {host!r}")
        config = dict(p.get("backend_config") or {})
        backend = p.get("backend") or "lvm"
        if backend == "lvm":
            config.setdefault("lvm_type", "auto")
        return {
            "host": host, "zone": p.get("availability_zone") or "nova",
            "status": "enabled" if p.get("enabled", True) else "disabled",
            "backend": backend, "volume_backend_name": p.get("backend_name") or host.split("@", 1)[1],
            "target_helper": p.get("target_helper") or "tgtadm", "target_ip": p.get("target_ip") or "127.0.0.1",
            "disabled_reason": p.get("disabled_reason"),
            "_config": {"connection": _connection(p.get("connection")), "backend_config": config,
                        "volume_group": p.get("volume_group") if backend == "lvm" else None,
                        "target_port": require_int("target_port", p.get("target_port"), minimum=1,
                                                   maximum=65535) or targets.PORT},
        }

    def _values(self, desired):
        cfg = desired["_config"]
        return {
            "host": desired["host"], "binary": "cinder-volume", "availability_zone": desired["zone"],
            "enabled": desired["status"] == "enabled", "disabled_reason": desired.get("disabled_reason"),
            "backend": desired["backend"], "backend_name": desired["volume_backend_name"],
            "target_helper": desired["target_helper"], "target_ip": desired["target_ip"],
            "target_port": cfg["target_port"], "volume_group": cfg["volume_group"],
            "connection": cfg["connection"], "backend_config": cfg["backend_config"],
        }

    def measure(self, catalog):
        """Before transaction 1 (no lock held): the backend's capacity, measured on the host."""
        self._measured = None
        if self.check_mode or (self.params.get("state") or "present") == "absent":
            return
        values = self._values(self.desired(None, None))
        try:
            self._measured = service.host_backend(values).capacity()
        except BlockError as err:
            self._measured = err

    def _measure(self, tx, values):
        measured = getattr(self, "_measured", None)
        if self.check_mode or measured is None:
            return {}
        if isinstance(measured, Exception):
            raise InvalidInput("backend_config", f"cannot measure the backend on {values['host']}: {measured}")
        return dict(measured, capacity_gb=int(measured["total_capacity_gb"]), last_seen=tx.now())

    def create(self, tx, desired):
        values = self._values(desired)
        values.update(self._measure(tx, values), id=str(uuid.uuid4()), created_at=tx.now())
        tx.execute(insert(tx.t.volume_services), values)

    def update(self, tx, current, desired, changes):
        values = self._values(desired)
        values["updated_at"] = tx.now()
        tx.execute(update(tx.t.volume_services).where(tx.t.volume_services.c.id == self._row["id"]).values(**values))

    def delete(self, tx, current):
        t = tx.t.volumes
        used = tx.scalar(select(func.count()).select_from(t).where(t.c.host == current["host"],
                                                                   t.c.status != "deleted"))
        if used:
            raise InvalidInput("state", f"Volume service {current['host']} still holds {used} volumes; delete or "
                                        "migrate them first.")
        tx.execute(delete(tx.t.volume_services).where(tx.t.volume_services.c.id == self._row["id"]))

    def run(self, tx):
        outcome = super().run(tx)
        # A run that changes nothing still refreshes the capacity: that is the heartbeat.
        measured = getattr(self, "_measured", None)
        if self.params.get("state", "present") == "present" and not outcome["changed"] and not self.check_mode \
                and isinstance(measured, dict):
            service.record_capacity(tx, self.params["host"], measured)
            fresh = service.service_by_host(tx, self.params["host"])
            outcome["service"] = service.service_record(fresh, now=tx.now())
        if outcome.get("service"):
            outcome["service"].pop("_config", None)
        return outcome

    def for_diff(self, record):
        shown = super().for_diff(record)
        for key in ("updated_at", "state", "total_capacity_gb", "free_capacity_gb", "provisioned_capacity_gb"):
            shown.pop(key, None)
        return shown


class VolumeServiceInfo(BlockResource):
    result_key = "services"
    read_only = True

    def measure(self, catalog):
        """Before the listing (no lock held): the heartbeat of the block hosts not reached lately
        (block/heartbeat.py), unless ``probe`` is false; check mode reaches no host and lists what is recorded."""
        if self.params.get("probe", True) and not self.check_mode:
            heartbeat(catalog)

    def run(self, tx):
        now = tx.now()
        rows = service.services(tx)
        records = [service.service_record(r, now=now, down_time=service_down_time()) for r in rows]
        from ..backup.services import backup_service_records

        # `openstack volume service list` also shows a cinder-backup row per block host.
        backups = backup_service_records(records)
        if self.params.get("host"):
            records = [r for r in records if r["host"] == self.params["host"]]
            backups = [r for r in backups if r["host"] == self.params["host"]]
        return {"changed": False, "services": records, "backup_services": backups}
