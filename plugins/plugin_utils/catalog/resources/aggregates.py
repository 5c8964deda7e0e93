# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host aggregates and availability zones, with Nova's one-zone-per-host rule.

The zone is aggregate metadata ``availability_zone`` (as in Nova); results show it as
``availability_zone`` and keep it out of ``metadata``. A host in no zone is in ``nova``.
"""

from __future__ import annotations

import uuid

try:
    from sqlalchemy import delete, insert, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from ..errors import Conflict, InvalidInput, NotFound
from ..hosts import AZ_KEY, DEFAULT_AVAILABILITY_ZONE, aggregates, host_zones, hosts_with_servers, is_up
from ..resource import Resource, iso, require_name, string_dict


def aggregate_record(agg: dict) -> dict:
    """An aggregate as the module and `openstack aggregate show` give it."""
    metadata = {k: v for k, v in agg["metadata"].items() if k != AZ_KEY}
    return {
        "id": agg["id"],
        "uuid": agg["uuid"],
        "name": agg["name"],
        "availability_zone": agg["availability_zone"],
        "metadata": dict(sorted(metadata.items())),
        "hosts": sorted(agg["hosts"]),
        "created_at": iso(agg["created_at"]),
        "updated_at": iso(agg["updated_at"]),
    }


def _find(tx, name: str) -> dict | None:
    for agg in aggregates(tx):
        if agg["name"] == name:
            return agg
    return None


class Aggregate(Resource):
    result_key = "aggregate"
    compared = ("availability_zone", "metadata", "hosts")

    def find(self, tx):
        agg = _find(tx, self.params["name"])
        return aggregate_record(agg) if agg else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        metadata = string_dict("metadata", p.get("metadata"))
        if metadata is not None and AZ_KEY in metadata:
            raise InvalidInput("metadata", "must not hold availability_zone: set the availability_zone option instead")
        zone = p.get("availability_zone")
        if zone is not None:
            zone = str(zone)
            if zone and (":" in zone or zone != zone.strip() or len(zone) > 255):
                raise InvalidInput(
                    "availability_zone", f"{zone!r} is not a valid zone name (no ':', no surrounding spaces, 255 characters at most)"
                )
        hosts = p.get("hosts")
        if hosts is not None:
            hosts = sorted({require_name("hosts", h) for h in hosts})
            services = set(tx.scalars(select(tx.t.compute_services.c.host)))
            for host in hosts:
                if host not in services and self.check_mode:
                    # An earlier task of the same check run may be what registers it.
                    self.warnings.append(f"Compute host {host} is not registered (yet); assumed to be by then.")
                elif host not in services:
                    raise NotFound(
                        f"Compute host {host} could not be found. Register it first with ministack.cloud.compute_service."
                    )
            if current is not None and not p.get("purge_hosts", True):
                hosts = sorted(set(hosts) | set(current["hosts"]))
        base = current or {"availability_zone": None, "metadata": {}, "hosts": []}
        wanted = {
            "name": name,
            # '' removes the zone (Nova: unset the availability_zone metadata)
            "availability_zone": base["availability_zone"] if zone is None else (zone or None),
            "metadata": base["metadata"] if metadata is None else dict(sorted(metadata.items())),
            "hosts": base["hosts"] if hosts is None else hosts,
        }
        self._check_zones(tx, current, wanted)
        return wanted

    def changes(self, current, desired):
        # availability_zone may legitimately change to None, so compare every field.
        return {k: desired[k] for k in self.compared if desired[k] != current[k]}

    def _check_zones(self, tx, current, wanted):
        """Nova's is_safe_to_update_az: a host is in at most one availability zone, and a
        host with servers may not move to another zone."""
        ident = current["id"] if current else "(new)"
        zones = host_zones(tx)
        if current is not None:
            # what the hosts' zones are without this aggregate's own contribution
            own = current["availability_zone"]
            others = {}
            for agg in aggregates(tx):
                if agg["id"] == current["id"] or not agg["availability_zone"]:
                    continue
                for host in agg["hosts"]:
                    others.setdefault(host, set()).add(agg["availability_zone"])
        else:
            own, others = None, zones
        new_zone = wanted["availability_zone"]
        if new_zone:
            conflicting = sorted({z for h in wanted["hosts"] for z in others.get(h, ()) if z != new_zone})
            if conflicting:
                adding = current is None or set(wanted["hosts"]) - set(current["hosts"])
                action = "add host to" if adding else "update"
                raise Conflict(
                    f"Cannot {action} aggregate {ident}. Reason: One or more hosts already in availability zone(s) "
                    f"{conflicting}."
                )
        # Hosts whose effective zone changes must have no servers.
        before_hosts = set(current["hosts"]) if current else set()
        moved = []
        for host in sorted(before_hosts | set(wanted["hosts"])):
            old = sorted(others.get(host, set()) | ({own} if own and host in before_hosts else set()))
            new = sorted(others.get(host, set()) | ({new_zone} if new_zone and host in wanted["hosts"] else set()))
            old_zone = old[0] if old else DEFAULT_AVAILABILITY_ZONE
            new_zone_of_host = new[0] if new else DEFAULT_AVAILABILITY_ZONE
            if old_zone != new_zone_of_host:
                moved.append((host, old_zone, new_zone_of_host))
        if moved:
            busy = hosts_with_servers(tx, [move[0] for move in moved])
            for host, old_zone, new_zone_of_host in moved:
                if busy.get(host):
                    raise Conflict(
                        f"Cannot update aggregate {ident}. Reason: host {host} has {busy[host]} server(s) in availability "
                        f"zone {old_zone}; it cannot move to {new_zone_of_host} while they exist."
                    )

    def create(self, tx, desired):
        result = tx.execute(
            insert(tx.t.aggregates), {"uuid": str(uuid.uuid4()), "name": desired["name"], "created_at": tx.now()}
        )
        agg_id = result.inserted_primary_key[0]
        self._write(tx, agg_id, {"availability_zone": None, "metadata": {}, "hosts": []}, desired)

    def update(self, tx, current, desired, changes):
        self._write(tx, current["id"], current, desired)
        tx.execute(update(tx.t.aggregates).where(tx.t.aggregates.c.id == current["id"]).values(updated_at=tx.now()))

    def delete(self, tx, current):
        t = tx.t
        # Hosts leave the aggregate first (as openstack.cloud does); their zone changes.
        self._check_zones(tx, current, {**current, "hosts": [], "availability_zone": None})
        tx.execute(delete(t.aggregate_hosts).where(t.aggregate_hosts.c.aggregate_id == current["id"]))
        tx.execute(delete(t.aggregate_metadata).where(t.aggregate_metadata.c.aggregate_id == current["id"]))
        tx.execute(delete(t.aggregates).where(t.aggregates.c.id == current["id"]))

    @staticmethod
    def _write(tx, agg_id, old, new):
        t = tx.t
        old_meta = dict(old["metadata"])
        new_meta = dict(new["metadata"])
        if old["availability_zone"]:
            old_meta[AZ_KEY] = old["availability_zone"]
        if new["availability_zone"]:
            new_meta[AZ_KEY] = new["availability_zone"]
        m = t.aggregate_metadata
        for key in old_meta.keys() - new_meta.keys():
            tx.execute(delete(m).where(m.c.aggregate_id == agg_id, m.c.key == key))
        for key, value in new_meta.items():
            if key not in old_meta:
                tx.execute(insert(m), {"aggregate_id": agg_id, "key": key, "value": value})
            elif old_meta[key] != value:
                tx.execute(update(m).where(m.c.aggregate_id == agg_id, m.c.key == key).values(value=value))
        h = t.aggregate_hosts
        gone = set(old["hosts"]) - set(new["hosts"])
        if gone:
            tx.execute(delete(h).where(h.c.aggregate_id == agg_id, h.c.host.in_(sorted(gone))))
        added = sorted(set(new["hosts"]) - set(old["hosts"]))
        if added:
            tx.execute(insert(h), [{"aggregate_id": agg_id, "host": host} for host in added])


class AggregateInfo(Resource):
    result_key = "aggregates"
    read_only = True

    def run(self, tx):
        name = self.params.get("name")
        found = [aggregate_record(a) for a in aggregates(tx) if not name or a["name"] == name]
        return {"changed": False, "aggregates": found}


class AvailabilityZoneInfo(Resource):
    """Zones as `openstack availability zone list --long` shows them: compute zones from
    aggregates (hosts in none are in 'nova'), volume zones from the volume services."""

    result_key = "availability_zones"
    read_only = True

    def run(self, tx):
        t = tx.t
        now = tx.now()
        zones: dict[tuple[str, str], dict] = {}

        def add(kind, zone, host, binary, service):
            entry = zones.setdefault(
                (kind, zone), {"name": zone, "resource": kind, "state": "not available", "hosts": {}}
            )
            up = is_up(service, now, self.params.get("service_down_time"))
            entry["hosts"].setdefault(host, {})[binary] = {
                "available": up,
                "active": bool(service["enabled"]),
                "updated_at": iso(service["last_seen"]),
            }
            if service["enabled"]:
                entry["state"] = "available"  # Nova: a zone is available if any service in it is enabled

        kinds = self.params.get("kind") or ["compute", "volume"]
        if "compute" in kinds:
            host_zone = host_zones(tx)
            for service in tx.all(select(t.compute_services).order_by(t.compute_services.c.host)):
                found = sorted(host_zone.get(service["host"], ())) or [DEFAULT_AVAILABILITY_ZONE]
                add("compute", found[0], service["host"], service["binary"], service)
        if "volume" in kinds:
            for service in tx.all(select(t.volume_services).order_by(t.volume_services.c.host)):
                service = {**service, "forced_down": False}
                add("volume", service["availability_zone"], service["host"], service["binary"], service)
        name = self.params.get("name")
        result = [zone for key, zone in sorted(zones.items()) if not name or zone["name"] == name]
        return {"changed": False, "availability_zones": result}
