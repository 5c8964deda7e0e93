# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute services (nova-compute hosts) and hypervisors.

A host is registered with its capacity, allocation ratios and reserved amounts. "up" is
derived from the last time the controller reached it (``discover: true`` reaches it now,
through libvirt; the server module records each later contact), as Nova derives it from
the service's heartbeat.
"""

from __future__ import annotations

import platform
import uuid

try:
    from sqlalchemy import delete, insert, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from ..errors import CatalogError, Conflict, InvalidInput
from ..hosts import (
    INTERNAL_AVAILABILITY_ZONE,
    aggregates,
    availability_zone_of,
    host_states,
    host_zones,
    hosts_with_servers,
    is_up,
    reserved_disk_gb,
    service_down_time,
)
from ..resource import Resource, iso, require_float, require_int, require_name

CAPACITY = ("vcpus", "memory_mb", "local_gb")
CREATE_DEFAULTS = {  # Nova's initial_*_allocation_ratio and reserved_host_* defaults
    "cpu_allocation_ratio": 4.0,
    "ram_allocation_ratio": 1.0,
    "disk_allocation_ratio": 1.0,
    "reserved_host_memory_mb": 512,
    "reserved_host_disk_mb": 0,
    "reserved_host_cpus": 0,
    "hypervisor_type": "QEMU",
    "enabled": True,
}
SETTABLE = (
    *CAPACITY,
    "cpu_allocation_ratio",
    "ram_allocation_ratio",
    "disk_allocation_ratio",
    "reserved_host_memory_mb",
    "reserved_host_disk_mb",
    "reserved_host_cpus",
    "hypervisor_type",
    "hypervisor_hostname",
    "hypervisor_version",
    "host_ip",
    "libvirt_uri",
    "capabilities",
    "enabled",
    "disabled_reason",
)
VOLATILE = ("state", "updated_at", "created_at")
# What a registered host reports on each contact (discover: true): a heartbeat, not a change.
REPORTED = (*CAPACITY, "hypervisor_version")


def service_record(row: dict, zone: str, now, down_time=None) -> dict:
    """A compute service with the columns of `openstack compute service list` first."""
    return {
        "id": row["id"],
        "binary": row["binary"],
        "host": row["host"],
        "zone": zone,
        "status": "enabled" if row["enabled"] else "disabled",
        "state": "up" if is_up(row, now, down_time) else "down",
        "updated_at": iso(row["last_seen"]),
        "disabled_reason": row["disabled_reason"],
        "is_forced_down": bool(row["forced_down"]),
        "enabled": bool(row["enabled"]),
        "vcpus": row["vcpus"],
        "memory_mb": row["memory_mb"],
        "local_gb": row["local_gb"],
        "cpu_allocation_ratio": float(row["cpu_allocation_ratio"]),
        "ram_allocation_ratio": float(row["ram_allocation_ratio"]),
        "disk_allocation_ratio": float(row["disk_allocation_ratio"]),
        "reserved_host_memory_mb": row["reserved_host_memory_mb"],
        "reserved_host_disk_mb": row["reserved_host_disk_mb"],
        "reserved_host_cpus": row["reserved_host_cpus"],
        "hypervisor_type": row["hypervisor_type"],
        "hypervisor_hostname": row["hypervisor_hostname"],
        "hypervisor_version": row["hypervisor_version"],
        "host_ip": row["host_ip"],
        "libvirt_uri": row["libvirt_uri"],
        "capabilities": row["capabilities"] or {},
        "created_at": iso(row["created_at"]),
    }


class ComputeService(Resource):
    """The catalog side of ``compute_service``. Discovery (reaching the host's libvirt) is the
    compute service's work: compute.services.DiscoveringComputeService does it before the
    transaction, in ``measure``, and hands the figures over in ``self.found``."""

    result_key = "compute_service"
    compared = SETTABLE
    found: dict | None = None

    def _row(self, tx):
        c = tx.t.compute_services
        return tx.one_or_none(select(c).where(c.c.host == self.params["host"]))

    def find(self, tx):
        row = self._row(tx)
        if row is None:
            return None
        return service_record(row, availability_zone_of(host_zones(tx), row["host"]), tx.now())

    def for_diff(self, record):
        return {k: v for k, v in (record or {}).items() if k not in VOLATILE}

    def desired(self, tx, current):
        p = self.params
        host = require_name("host", p["host"])
        wanted = {
            "vcpus": require_int("vcpus", p.get("vcpus"), minimum=1),
            "memory_mb": require_int("memory_mb", p.get("memory_mb"), minimum=1, unit="MB"),
            "local_gb": require_int("local_gb", p.get("local_gb"), minimum=0, unit="GB"),
            "cpu_allocation_ratio": require_float("cpu_allocation_ratio", p.get("cpu_allocation_ratio")),
            "ram_allocation_ratio": require_float("ram_allocation_ratio", p.get("ram_allocation_ratio")),
            "disk_allocation_ratio": require_float("disk_allocation_ratio", p.get("disk_allocation_ratio")),
            "reserved_host_memory_mb": require_int("reserved_host_memory_mb", p.get("reserved_host_memory_mb")),
            "reserved_host_disk_mb": require_int("reserved_host_disk_mb", p.get("reserved_host_disk_mb")),
            "reserved_host_cpus": require_int("reserved_host_cpus", p.get("reserved_host_cpus")),
            "hypervisor_type": p.get("hypervisor_type"),
            "hypervisor_hostname": p.get("hypervisor_hostname"),
            "hypervisor_version": None,
            "host_ip": p.get("host_ip"),
            "libvirt_uri": p.get("libvirt_uri"),
            "capabilities": p.get("capabilities"),
            "enabled": p.get("enabled"),
            "disabled_reason": p.get("disabled_reason"),
            # `openstack compute service set --down/--up`: down at once, whatever the last contact.
            "forced_down": p.get("forced_down"),
        }
        self.seen = None
        self.reported = {}
        if p.get("discover"):
            found = self.found
            if found is None:
                raise CatalogError("discover: nothing reached the host (use the compute_service module, whose "
                                   "action discovers through libvirt)")
            self.seen = tx.now()
            for key in (*CAPACITY, "hypervisor_type", "hypervisor_version", "libvirt_uri"):
                # 0 means libvirt could not tell (no instances storage pool yet): not a capacity
                if wanted.get(key) is None and found.get(key):
                    if current is not None and key in REPORTED:
                        # what a registered host reports now (memory can be hot-plugged, a pool
                        # grow) goes in with the heartbeat, as nova-compute's periodic update does
                        if found[key] != current.get(key):
                            self.reported[key] = found[key]
                    else:
                        wanted[key] = found[key]
            if wanted["hypervisor_hostname"] is None:
                wanted["hypervisor_hostname"] = current["hypervisor_hostname"] if current else host
        # enabled / disabled_reason: an option not given keeps the current value; enabling
        # clears the reason (as Nova does); a reason only goes with a disabled service.
        enabled = wanted["enabled"] if wanted["enabled"] is not None else (current["enabled"] if current else True)
        reason = wanted["disabled_reason"]
        if reason is not None:
            if enabled:
                raise InvalidInput("disabled_reason", "only applies to a disabled service: set enabled: false as well")
            if len(reason) > 255:
                raise InvalidInput("disabled_reason", "must be at most 255 characters")
        elif not enabled and current is not None and not current["enabled"]:
            reason = current["disabled_reason"]
        wanted["enabled"], wanted["disabled_reason"] = enabled, (None if enabled else reason)
        if current is None:
            missing = [k for k in CAPACITY if wanted[k] is None]
            if missing == ["local_gb"] and p.get("discover") and self.check_mode:
                # check mode skipped the kvm_host role's pool task: the real run has the pool
                wanted["local_gb"] = 0
                missing = []
            if missing:
                if p.get("discover"):
                    raise InvalidInput(
                        missing[0],
                        f"libvirt on {host} does not report it (for local_gb: no ministack-instances storage pool "
                        "yet: apply the ministack.cloud.kvm_host role to the host first, as playbooks/compute.yml "
                        "does); or give it as an option",
                    )
                raise InvalidInput(
                    missing[0],
                    f"required to register compute host {host} (give vcpus, memory_mb and local_gb, or discover: true)",
                )
            for key, default in CREATE_DEFAULTS.items():
                if wanted[key] is None:
                    wanted[key] = default
            if wanted["hypervisor_hostname"] is None:
                wanted["hypervisor_hostname"] = host
        merged = {**(current or {}), **{k: v for k, v in wanted.items() if v is not None}}
        for resource, reserved_key, limit in (
            ("memory_mb", "reserved_host_memory_mb", merged["memory_mb"]),
            ("vcpus", "reserved_host_cpus", merged["vcpus"]),
        ):
            if merged[reserved_key] >= limit:
                raise InvalidInput(reserved_key, f"{merged[reserved_key]} leaves nothing of {resource} {limit} for servers")
        if reserved_disk_gb(merged) > merged["local_gb"]:
            raise InvalidInput("reserved_host_disk_mb", f"is more than local_gb {merged['local_gb']}")
        if current is not None:
            self._check_shrink(tx, current, merged)
        return wanted

    def changes(self, current, desired):
        result = super().changes(current, desired)
        if desired["disabled_reason"] != current["disabled_reason"]:
            result["disabled_reason"] = desired["disabled_reason"]  # may become None
        if desired.get("forced_down") is not None and desired["forced_down"] != current["is_forced_down"]:
            result["forced_down"] = desired["forced_down"]
        return result

    def _check_shrink(self, tx, current, merged):
        """Capacity may shrink only as far as what servers already hold on the host."""
        state = next((s for s in host_states(tx) if s["host"] == current["host"]), None)
        if state is None:
            return
        used = {"vcpus": state["vcpus_used"], "memory_mb": state["memory_mb_used"], "local_gb": state["local_gb_used"]}
        limits = {
            "vcpus": (merged["vcpus"] - merged["reserved_host_cpus"]) * merged["cpu_allocation_ratio"],
            "memory_mb": (merged["memory_mb"] - merged["reserved_host_memory_mb"]) * merged["ram_allocation_ratio"],
            "local_gb": (merged["local_gb"] - reserved_disk_gb(merged)) * merged["disk_allocation_ratio"],
        }
        for key, limit in limits.items():
            if used[key] > limit:
                raise Conflict(
                    f"{key}: host {current['host']} would offer {limit:g} {key} to servers but they already hold "
                    f"{used[key]}; move servers away first."
                )

    def create(self, tx, desired):
        row = {k: v for k, v in desired.items() if k in SETTABLE}
        tx.execute(
            insert(tx.t.compute_services),
            {
                **row,
                "id": str(uuid.uuid4()),
                "host": self.params["host"],
                "binary": "nova-compute",
                "forced_down": bool(desired.get("forced_down")),
                "failed_builds": 0,
                "last_seen": self.seen,
                "created_at": tx.now(),
            },
        )

    def update(self, tx, current, desired, changes):
        c = tx.t.compute_services
        tx.execute(update(c).where(c.c.id == current["id"]).values(**changes, updated_at=tx.now()))

    def delete(self, tx, current):
        busy = hosts_with_servers(tx, [current["host"]]).get(current["host"], 0)
        a = tx.t.allocations
        held = tx.all(select(a.c.server_id).where(a.c.host == current["host"]))
        if busy or held:
            raise Conflict(
                f"Compute service {current['host']} has {max(busy, len(held))} server(s); delete or move them before "
                "deleting the service."
            )
        # Nova removes a deleted service's host from its aggregates.
        h = tx.t.aggregate_hosts
        tx.execute(delete(h).where(h.c.host == current["host"]))
        tx.execute(delete(tx.t.compute_services).where(tx.t.compute_services.c.id == current["id"]))

    def run(self, tx):
        outcome = super().run(tx)
        # Reaching the host is a heartbeat, not a change.
        if getattr(self, "seen", None) and (self.params.get("state") or "present") == "present":
            c = tx.t.compute_services
            tx.execute(update(c).where(c.c.host == self.params["host"]).values(last_seen=self.seen, **self.reported))
            outcome[self.result_key] = self.find(tx)
        return outcome


def controller_services(now) -> list[dict]:
    """nova-conductor and nova-scheduler as the seed lists them: here they are the controller
    itself, in zone 'internal', up whenever a playbook runs."""
    host = platform.node() or "localhost"
    return [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{binary}.{host}")),
            "binary": binary,
            "host": host,
            "zone": INTERNAL_AVAILABILITY_ZONE,
            "status": "enabled",
            "state": "up",
            "updated_at": iso(now),
            "disabled_reason": None,
            "is_forced_down": False,
        }
        for binary in ("nova-conductor", "nova-scheduler")
    ]


class ComputeServiceInfo(Resource):
    result_key = "compute_services"
    read_only = True

    def run(self, tx):
        p = self.params
        service_down_time(p.get("service_down_time"))  # checked even when no host is listed
        now = tx.now()
        zones = host_zones(tx)
        c = tx.t.compute_services
        rows = [
            service_record(row, availability_zone_of(zones, row["host"]), now, p.get("service_down_time"))
            for row in tx.all(select(c).order_by(c.c.host))
        ]
        services = [*controller_services(now), *rows]
        if p.get("binary"):
            services = [s for s in services if s["binary"] == p["binary"]]
        if p.get("host"):
            services = [s for s in services if s["host"] == p["host"]]
        return {"changed": False, "compute_services": services}


class HypervisorInfo(Resource):
    """Hypervisors as `openstack hypervisor show` gives them (used amounts include the
    reserved ones, as Nova reports them), plus `hypervisor stats show` totals."""

    result_key = "hypervisors"
    read_only = True

    def run(self, tx):
        p = self.params
        service_down_time(p.get("service_down_time"))  # checked even when no host is listed
        names_by_host: dict[str, list[str]] = {}
        for agg in aggregates(tx):
            for host in agg["hosts"]:
                names_by_host.setdefault(host, []).append(agg["name"])
        hypervisors = []
        for s in host_states(tx, p.get("service_down_time")):
            if p.get("name") and p["name"] not in (s["hypervisor_hostname"], s["host"]):
                continue
            memory_used = s["memory_mb_used"] + s["reserved_host_memory_mb"]
            disk_used = s["local_gb_used"] + reserved_disk_gb(s)
            hypervisors.append(
                {
                    "id": s["service_id"],
                    "name": s["hypervisor_hostname"],
                    "hypervisor_hostname": s["hypervisor_hostname"],
                    "hypervisor_type": s["hypervisor_type"],
                    "hypervisor_version": s["hypervisor_version"],
                    "host_ip": s["host_ip"],
                    "state": "up" if s["up"] else "down",
                    "status": "enabled" if s["enabled"] else "disabled",
                    "service": {"host": s["host"], "id": s["service_id"], "disabled_reason": s["disabled_reason"]},
                    "availability_zone": s["availability_zone"],
                    "aggregates": sorted(names_by_host.get(s["host"], [])),
                    "vcpus": s["vcpus"],
                    "vcpus_used": s["vcpus_used"],
                    "memory_mb": s["memory_mb"],
                    "memory_mb_used": memory_used,
                    "free_ram_mb": s["memory_mb"] - memory_used,
                    "local_gb": s["local_gb"],
                    "local_gb_used": disk_used,
                    "free_disk_gb": s["local_gb"] - disk_used,
                    "running_vms": s["running_vms"],
                    "current_workload": s["num_io_ops"],
                    "cpu_allocation_ratio": s["cpu_allocation_ratio"],
                    "ram_allocation_ratio": s["ram_allocation_ratio"],
                    "disk_allocation_ratio": s["disk_allocation_ratio"],
                    "reserved_host_memory_mb": s["reserved_host_memory_mb"],
                    "reserved_host_disk_mb": s["reserved_host_disk_mb"],
                    "reserved_host_cpus": s["reserved_host_cpus"],
                    "capabilities": s["capabilities"],
                    "updated_at": iso(s["last_seen"]),
                }
            )
        totals = {
            key: sum(h[key] for h in hypervisors)
            for key in (
                "vcpus",
                "vcpus_used",
                "memory_mb",
                "memory_mb_used",
                "free_ram_mb",
                "local_gb",
                "local_gb_used",
                "free_disk_gb",
                "running_vms",
                "current_workload",
            )
        }
        return {"changed": False, "hypervisors": hypervisors, "statistics": {"count": len(hypervisors), **totals}}
