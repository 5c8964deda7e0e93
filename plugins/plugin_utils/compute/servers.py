# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server lifecycle: nova-api, nova-conductor and nova-compute's roles, on the controller.

Create follows the seed's request flow, with short catalog transactions around the slow
work (never boot a guest inside a transaction):

1. API (transaction 1): validate flavor, image (min_disk, min_ram, virtual size), networks,
   key and quota; record the server in BUILD / scheduling with its ports (addresses
   allocated from the subnet).
2. Scheduler (read snapshot, after a heartbeat of the hosts not reached lately): ``select_hosts`` over the catalog's host states and
   aggregates, the same function as the ``select_hosts`` filter. Nothing fits: ERROR with
   the fault "No valid host was found. ...".
3. Conductor (transaction 2, per attempt): claim the flavor's resources on the host.
4. Compute (no transaction): on the host through libvirt, the networks, the DHCP
   reservations, the cached base image, the copy-on-write disk, the config drive, the
   domain; wait until it runs.
5. Transaction 3: ACTIVE / Running with launched_at. If step 4 failed: clean the host,
   release the claim and retry on the next alternate (max_attempts 3, as Nova); nothing
   left: ERROR.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import datetime
from typing import Optional

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from ..block import attachments
from ..catalog import (
    CatalogError,
    ClaimFailed,
    Conflict,
    InvalidInput,
    NotFound,
    aggregates,
    claim,
    find_project,
    host_states,
    release,
    tasks,
    touch_service,
)
from ..catalog import quotas as quota_lib
from ..catalog.resource import iso, require_name, string_dict
from ..scheduler import NoValidHost as SchedulerNoValidHost
from ..scheduler import SchedulerError, select_hosts
from . import ComputeError, networks
from . import driver as drv
from .drivers import Guest, Hypervisor
from .hosts import hypervisor_for, libvirt_host
from .images import image_record, require_image

GiB = 1024 ** 3
STATUS_OF = {"active": "ACTIVE", "building": "BUILD", "stopped": "SHUTOFF", "paused": "PAUSED",
             "suspended": "SUSPENDED", "error": "ERROR", "deleted": "DELETED"}
IMMUTABLE_HINT = "resize and rebuild are not supported yet: delete the server and create it again"


class ServerFailed(CatalogError):
    """The request was accepted but the server ended in ERROR; ``server`` is its record."""

    def __init__(self, message: str, server: dict):
        self.server = server
        super().__init__(message)


def host_id(project_id: str, host: Optional[str]) -> str:
    """Nova's hostId: an opaque per-project id of the host (sha224 of project id + host)."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def _created(value: Optional[datetime]) -> Optional[str]:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _props_text(meta: dict) -> str:
    return ", ".join(f"{k}='{v}'" for k, v in sorted((meta or {}).items()))


# -------------------------------------------------------------------- lookups
def find_flavor(tx, name_or_id: str) -> dict:
    f = tx.t.flavors
    row = tx.one_or_none(select(f).where(f.c.id == str(name_or_id)))
    if row is None:
        row = tx.one_or_none(select(f).where(f.c.name == str(name_or_id)))
    if row is None:
        raise NotFound(f"Flavor {name_or_id} could not be found.")
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
    row = tx.one_or_none(select(s).where(s.c.id == name_or_id, live(s)))
    if row is not None:
        return row
    query = select(s).where(s.c.name == name_or_id, live(s))
    if project_id:
        query = query.where(s.c.project_id == project_id)
    rows = tx.all(query)
    if len(rows) > 1:
        raise Conflict(f"More than one server exists with the name '{name_or_id}'; use the server ID.")
    return rows[0] if rows else None


def require_server(tx, name_or_id: str) -> dict:
    row = find_server_row(tx, name_or_id)
    if row is None:
        raise NotFound(f"No server with a name or ID of '{name_or_id}' exists.")
    return row


def service_row(tx, host: str) -> dict:
    c = tx.t.compute_services
    row = tx.one_or_none(select(c).where(c.c.host == host))
    if row is None:
        raise NotFound(f"Compute host {host} could not be found.")
    return row


# -------------------------------------------------------------------- the record
def server_record(tx, row: dict) -> dict:
    """A server as ``openstack server show`` prints it (field names and value formats)."""
    ports = networks.server_ports(tx, row["id"])
    by_net: dict = {}
    for port in ports:
        if port["ip_address"]:
            by_net.setdefault(port["network_name"], []).append(port["ip_address"])
    addresses = "; ".join(f"{net}={', '.join(ips)}" for net, ips in by_net.items())
    flavor = row.get("flavor") or {}
    image_txt = ""
    if row.get("image_id"):
        img = tx.one_or_none(select(tx.t.images.c.name).where(tx.t.images.c.id == row["image_id"]))
        image_txt = f"{img['name'] if img else ''} ({row['image_id']})"
    att = tx.t.attachments
    volumes = tx.all(select(att.c.volume_id).where(att.c.server_id == row["id"], att.c.status == "attached"))
    status = row["status"]
    rec = {
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": row.get("availability_zone") or "",
        "OS-EXT-SRV-ATTR:host": row.get("host"),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": row.get("node"),
        "OS-EXT-SRV-ATTR:instance_name": drv.instance_name(row["instance_number"]) if row.get("instance_number")
        else "",
        "OS-EXT-STS:power_state": drv.POWER_STATE_NAMES.get(row["power_state"], "NOSTATE"),
        "OS-EXT-STS:task_state": row.get("task_state"),
        "OS-EXT-STS:vm_state": row["vm_state"],
        "OS-SRV-USG:launched_at": iso(row.get("launched_at")),
        "OS-SRV-USG:terminated_at": iso(row.get("terminated_at")),
        "accessIPv4": "",
        "accessIPv6": "",
        "addresses": addresses,
        "config_drive": "True" if row.get("config_drive") else "",
        "created": _created(row["created_at"]),
        "flavor": f"{flavor.get('name', '')} ({row.get('flavor_id')})",
        "hostId": host_id(row["project_id"], row.get("host")),
        "id": row["id"],
        "image": image_txt,
        "key_name": row.get("key_name"),
        "name": row["name"],
        "progress": 0,
        "project_id": row["project_id"],
        "properties": _props_text(row.get("metadata") or {}),
        "security_groups": "name='default'",
        "status": status,
        "updated": _created(row.get("updated_at") or row["created_at"]),
        "user_id": None,
        "volumes_attached": "\n".join(f"id='{v['volume_id']}'" for v in volumes),
        # Structured copies, handy in plays (the CLI fields above are text).
        "metadata": dict(row.get("metadata") or {}),
        "networks": by_net,
        "ports": [{"id": p["id"], "network": p["network_name"], "network_id": p["network_id"],
                   "mac_address": p["mac_address"], "ip_address": p["ip_address"]} for p in ports],
    }
    if row.get("fault"):
        rec["fault"] = row["fault"]
    return rec


def _set(tx, server_id: str, **values) -> None:
    s = tx.t.servers
    values.setdefault("updated_at", tx.now())
    tx.execute(update(s).where(s.c.id == server_id).values(**values))


# -------------------------------------------------------------------- manager
class Servers:
    """Create / update / delete one server (``ministack.cloud.server``)."""

    def __init__(self, catalog, params: dict, check_mode: bool = False, context: Optional[dict] = None,
                 log=None):
        self.catalog = catalog
        self.params = params
        self.check_mode = check_mode
        self.context = context or {}
        self.log = log or (lambda _msg: None)
        self.warnings: list = []
        self.timings: dict = {}
        self.task_id: Optional[str] = None

    # ---------------------------------------------------------------- entry
    def run(self) -> dict:
        state = self.params.get("state") or "present"
        with self.catalog.read() as tx:
            project = find_project(tx, self.params.get("project"))
            current = find_server_row(tx, self.params["name"], project["id"])
            before = server_record(tx, current) if current else None
        if state == "absent":
            if current is None:
                return self._outcome(False, None, None)
            if not self.check_mode:
                self.delete(current)
            return self._outcome(True, before, None)
        if current is not None:
            return self.update(current, before)
        if self.check_mode:
            with self.catalog.begin(dry_run=True) as tx:
                server_id = self._api_create(tx, project)
                after = server_record(tx, find_server_row(tx, server_id))
            return self._outcome(True, None, after)
        return self.create(project)

    def _outcome(self, changed: bool, before, after) -> dict:
        def diffable(rec):
            if not rec:
                return {}
            return {k: v for k, v in rec.items() if k not in ("updated", "OS-SRV-USG:launched_at")}

        return {"changed": changed, "server": after, "diff": {"before": diffable(before), "after": diffable(after)}}

    # ---------------------------------------------------------------- update
    def update(self, row: dict, before: dict) -> dict:
        p = self.params
        with self.catalog.begin(dry_run=self.check_mode) as tx:
            if p.get("flavor") is not None:
                flavor = find_flavor(tx, p["flavor"])
                if flavor["id"] != row["flavor_id"]:
                    raise Conflict(f"Server {row['name']} has flavor {row['flavor_id']}; flavor cannot be changed "
                                   f"to {flavor['id']} ({IMMUTABLE_HINT}).")
            if p.get("image") is not None:
                image = require_image(tx, p["image"])
                if image["id"] != row["image_id"]:
                    raise Conflict(f"Server {row['name']} was built from image {row['image_id']}; image cannot be "
                                   f"changed to {image['id']} ({IMMUTABLE_HINT}).")
            if p.get("key_name") is not None and p["key_name"] != row["key_name"]:
                raise Conflict(f"Server {row['name']} has key_name {row['key_name']}; the key is injected at "
                               f"boot and cannot be changed ({IMMUTABLE_HINT}).")
            wanted_nets = self._requested_network_ids(tx, required=False)
            if wanted_nets is not None:
                have = [port["network_id"] for port in networks.server_ports(tx, row["id"])]
                if sorted(wanted_nets) != sorted(have):
                    raise Conflict(f"Server {row['name']} is on networks {have}; networks cannot be changed "
                                   "(interface attach is not supported yet).")
            changed = False
            meta = string_dict("metadata", p.get("metadata"))
            if meta is not None and meta != (row.get("metadata") or {}):
                _set(tx, row["id"], metadata=meta)
                changed = True
            after = server_record(tx, find_server_row(tx, row["id"]))
        if row["status"] == "ERROR" and not changed:
            fault = (row.get("fault") or {}).get("message", "")
            raise ServerFailed(f"Server {row['name']} is in ERROR: {fault} Delete it (state: absent) and "
                               "create it again.", before)
        return self._outcome(changed, before, after)

    # ---------------------------------------------------------------- API step
    def _requested_network_ids(self, tx, required: bool = True) -> Optional[list]:
        p = self.params
        names = []
        if p.get("network"):
            names.append(p["network"])
        for nic in p.get("nics") or []:
            if isinstance(nic, str):
                names.append(nic)
                continue
            ref = nic.get("net-id") or nic.get("net_id") or nic.get("net-name") or nic.get("net_name")
            if not ref:
                raise InvalidInput("nics", f"each entry needs net-id or net-name, got {nic!r}")
            names.append(ref)
        if not names:
            if not required:
                return None
            n = tx.t.networks
            rows = tx.all(select(n.c.id))
            if len(rows) == 1:
                return [rows[0]["id"]]
            if not rows:
                raise InvalidInput("network", "no network exists: create one with ministack.cloud.network")
            raise InvalidInput("network", "Multiple possible networks found, use a Network ID to be more specific.")
        return [networks.require_network(tx, ref)["id"] for ref in names]

    def _api_create(self, tx, project: dict) -> str:
        """Validate everything, then record the server in BUILD / scheduling (transaction 1)."""
        p = self.params
        name = require_name("name", p["name"])  # before scheduling and claims: libvirt's XML needs it clean
        if p.get("flavor") is None:
            raise InvalidInput("flavor", f"is required to create server {name} (a flavor name or ID)")
        if p.get("image") is None:
            raise InvalidInput("image", f"is required to create server {name} (an image name or ID)")
        flavor = find_flavor(tx, p["flavor"])
        image = require_image(tx, p["image"], project["id"])
        if flavor["ram"] < (image["min_ram"] or 0):
            raise InvalidInput("flavor", f"Flavor's memory is too small for requested image. Flavor {flavor['name']} "
                                         f"has {flavor['ram']} MB, image {image['name']} needs {image['min_ram']} MB.")
        root_bytes = flavor["disk"] * GiB
        if flavor["disk"] and flavor["disk"] < (image["min_disk"] or 0):
            raise InvalidInput("flavor", "Flavor's disk is smaller than the minimum size specified in image metadata. "
                                         f"Flavor disk is {root_bytes} bytes, minimum size is "
                                         f"{image['min_disk'] * GiB} bytes.")
        if flavor["disk"] and root_bytes < (image["virtual_size"] or 0):
            raise InvalidInput("flavor", "Flavor's disk is too small for requested image. Flavor disk is "
                                         f"{root_bytes} bytes, image is {image['virtual_size']} bytes.")
        net_ids = self._requested_network_ids(tx)
        key = find_keypair(tx, p["key_name"], project["id"]) if p.get("key_name") else None
        meta = string_dict("metadata", p.get("metadata")) or {}
        group = None
        if p.get("server_group"):
            g = tx.t.server_groups
            group = tx.one_or_none(select(g).where((g.c.id == p["server_group"]) | (g.c.name == p["server_group"])))
            if group is None:
                raise NotFound(f"Server group {p['server_group']} could not be found.")
        zone, forced_host = self._zone()
        if forced_host:
            try:
                service_row(tx, forced_host)
            except NotFound:
                raise InvalidInput("availability_zone", f"Compute host {forced_host} could not be found "
                                                        "(zone:host names a registered compute host).") from None
        quota_lib.check(tx, project["id"], instances=1, cores=flavor["vcpus"], ram=flavor["ram"])
        if group is not None:
            quota_lib.check(tx, project["id"], server_group_members=1)
        s = tx.t.servers
        number = (tx.scalar(select(func.max(s.c.instance_number))) or 0) + 1
        server_id = str(uuid.uuid4())
        now = tx.now()
        flavor_copy = {k: flavor[k] for k in ("id", "name", "ram", "vcpus", "disk", "ephemeral", "swap")}
        flavor_copy["extra_specs"] = flavor["extra_specs"]
        tx.execute(insert(s), {
            "id": server_id, "name": name, "project_id": project["id"], "status": "BUILD",
            "vm_state": "building", "task_state": "scheduling", "power_state": drv.NOSTATE,
            "requested_availability_zone": zone, "flavor_id": flavor["id"], "flavor": flavor_copy,
            "vcpus": flavor["vcpus"], "memory_mb": flavor["ram"], "root_gb": flavor["disk"],
            "ephemeral_gb": flavor["ephemeral"] or 0, "image_id": image["id"],
            "key_name": key["name"] if key else None, "config_drive": True, "user_data": p.get("user_data"),
            "metadata": meta, "instance_number": number, "retry": {"num_attempts": 0, "hosts": []},
            "created_at": now, "updated_at": now})
        for net_id in net_ids:
            networks.create_port(tx, networks.require_network(tx, net_id), server_id)
        if group is not None:
            tx.execute(insert(tx.t.server_group_members), {"group_id": group["id"], "server_id": server_id})
        if not self.check_mode:
            # The build runs outside any transaction: if this process dies meanwhile, the next
            # run settles the server to ERROR (a delete then cleans the host).
            ttl = float(self.params.get("timeout") or 180) * 3 + 600
            self.task_id = tasks.begin(tx, "server", server_id, "building", ttl=ttl, abandon=[
                {"table": "servers", "id": server_id, "values": {
                    "status": "ERROR", "vm_state": "error", "task_state": None,
                    "fault": {"code": 500, "message": "{reason}", "created": "{now}"}}}])
        return server_id

    def _zone(self):
        zone = self.params.get("availability_zone") or None
        if zone and ":" in zone:
            parts = zone.split(":")
            return (parts[0] or None), (parts[1] or None)
        return zone, None

    # ---------------------------------------------------------------- create
    def create(self, project: dict) -> dict:
        t0 = time.monotonic()
        with self.catalog.begin() as tx:
            server_id = self._api_create(tx, project)
        self.timings["api"] = time.monotonic() - t0
        try:
            self._schedule_and_build(server_id)
        except ServerFailed:
            raise
        except BaseException as exc:
            # Anything unexpected (Ctrl-C, a bug): never leave a server stuck in BUILD.
            self._to_error(server_id, f"Build of instance {server_id} aborted: {exc}")
            raise
        with self.catalog.read() as tx:
            after = server_record(tx, find_server_row(tx, server_id))
        return self._outcome(True, None, after)

    def _request(self, tx, row: dict) -> dict:
        """The scheduler's inputs for this server, from the catalog."""
        image = image_record(tx.one_or_none(select(tx.t.images).where(tx.t.images.c.id == row["image_id"])))
        group = None
        m, g = tx.t.server_group_members, tx.t.server_groups
        link = tx.one_or_none(select(m).where(m.c.server_id == row["id"]))
        if link:
            grp = tx.one_or_none(select(g).where(g.c.id == link["group_id"]))
            members = [r["server_id"] for r in tx.all(select(m.c.server_id).where(m.c.group_id == grp["id"]))
                       if r["server_id"] != row["id"]]
            group = {"policy": grp["policy"], "members": members, "rules": grp.get("rules") or {}}
        return {"hosts": host_states(tx), "flavor": row["flavor"], "image": image,
                "availability_zone": row["requested_availability_zone"],
                "scheduler_hints": self.params.get("scheduler_hints") or None, "server_group": group,
                "aggregates": aggregates(tx), "project_id": row["project_id"],
                "config": self.context.get("scheduler_config")}

    def heartbeat(self, stale_after: float = 20.0, timeout: float = 5.0) -> list:
        """Reach every enabled compute host not heard from in ``stale_after`` seconds and record
        the contact: the heartbeat nova-compute would send, so that ComputeFilter's "up" means
        "its libvirtd answers now". Hosts are probed in parallel, ``timeout`` seconds at most."""
        with self.catalog.read() as tx:
            now = tx.now()
            stale = [svc for svc in tx.all(select(tx.t.compute_services))
                     if svc["enabled"] and (svc["last_seen"] is None
                                            or (now - svc["last_seen"]).total_seconds() > stale_after)]
        probes = {svc["host"]: drv._Background(lambda svc=svc: hypervisor_for(svc).ping())
                  for svc in stale}
        deadline = time.monotonic() + timeout
        answered = []
        for host, probe in probes.items():
            probe._thread.join(max(0.0, deadline - time.monotonic()))
            if not probe._thread.is_alive() and probe._error is None:
                answered.append(host)
        if answered:
            with self.catalog.begin() as tx:
                for host in answered:
                    touch_service(tx, host)
        return answered

    def _schedule_and_build(self, server_id: str) -> None:
        t0 = time.monotonic()
        self.heartbeat()
        with self.catalog.read() as tx:
            row = find_server_row(tx, server_id)
            request = self._request(tx, row)
        _zone, forced_host = self._zone()
        if forced_host:
            attempts = [forced_host]
        else:
            try:
                picks = select_hosts(request["hosts"], request["flavor"], image=request["image"],
                                     availability_zone=request["availability_zone"],
                                     scheduler_hints=request["scheduler_hints"],
                                     server_group=request["server_group"], aggregates=request["aggregates"],
                                     project_id=request["project_id"], num_instances=1, config=request["config"])
            except SchedulerNoValidHost as exc:
                self._to_error(server_id, str(exc))
                raise self._failed(server_id, str(exc)) from None
            except SchedulerError as exc:
                self._to_error(server_id, str(exc))
                raise self._failed(server_id, str(exc)) from None
            attempts = [picks[0]["host"], *picks[0]["alternates"]]
        self.timings["schedule"] = time.monotonic() - t0
        errors = []
        for host in attempts:
            # Conductor: claim on the host, in its own short transaction.
            try:
                with self.catalog.begin() as tx:
                    row = find_server_row(tx, server_id)
                    claim(tx, host, server_id, vcpus=row["vcpus"], memory_mb=row["memory_mb"],
                          disk_gb=row["root_gb"] + row["ephemeral_gb"])
                    service = service_row(tx, host)
                    zones = [a["availability_zone"] for a in aggregates(tx)
                             if host in a["hosts"] and a["availability_zone"]]
                    retry = dict(row.get("retry") or {})
                    retry["num_attempts"] = retry.get("num_attempts", 0) + 1
                    retry["hosts"] = [*retry.get("hosts", []), host]
                    _set(tx, server_id, host=host, node=service["hypervisor_hostname"], task_state="networking",
                         availability_zone=zones[0] if zones else "nova", retry=retry)
                    networks_port = tx.t.ports
                    tx.execute(update(networks_port).where(networks_port.c.server_id == server_id).values(host=host))
                    ports = networks.server_ports(tx, server_id)
                    image = tx.one_or_none(select(tx.t.images).where(tx.t.images.c.id == row["image_id"]))
                    key = find_keypair(tx, row["key_name"], row["project_id"]) if row["key_name"] else None
                    row = find_server_row(tx, server_id)
            except ClaimFailed as exc:
                errors.append(f"{host}: {exc}")
                continue
            t1 = time.monotonic()
            try:
                self._build_on_host(service, row, image, ports, key)
            except (ComputeError, OSError) as exc:
                self.log(f"build of {server_id} on {host} failed: {exc}")
                errors.append(f"{host}: {exc}")
                self._cleanup_host(service, row, ports)
                with self.catalog.begin() as tx:
                    release(tx, server_id)
                    c = tx.t.compute_services
                    tx.execute(update(c).where(c.c.host == host).values(failed_builds=c.c.failed_builds + 1))
                    _set(tx, server_id, host=None, node=None, task_state="scheduling", power_state=drv.NOSTATE)
                continue
            self.timings["build"] = time.monotonic() - t1
            with self.catalog.begin() as tx:
                c = tx.t.compute_services
                tx.execute(update(c).where(c.c.host == host).values(failed_builds=0))
                touch_service(tx, host)
                tx.execute(update(tx.t.ports).where(tx.t.ports.c.server_id == server_id).values(status="ACTIVE"))
                now = tx.now()
                _set(tx, server_id, status="ACTIVE", vm_state="active", task_state=None,
                     power_state=drv.RUNNING, launched_at=now, fault=None)
                tasks.end(tx, self.task_id)
            return
        if len(attempts) > 1 or (errors and len(errors) == len(attempts)):
            reason = ("Exceeded maximum number of retries. Exhausted all hosts available for retrying build "
                      f"failures for instance {server_id}. " + " ".join(f"[{e}]" for e in errors))
        else:
            reason = " ".join(errors)
        message = f"No valid host was found. {reason}".strip()
        self._to_error(server_id, message)
        raise self._failed(server_id, message)

    def _failed(self, server_id: str, message: str) -> ServerFailed:
        with self.catalog.read() as tx:
            return ServerFailed(message, server_record(tx, find_server_row(tx, server_id)))

    def _to_error(self, server_id: str, message: str) -> None:
        with self.catalog.begin() as tx:
            if self.task_id:
                tasks.end(tx, self.task_id)
            release(tx, server_id)
            now = tx.now()
            _set(tx, server_id, status="ERROR", vm_state="error", task_state=None, power_state=drv.NOSTATE,
                 host=None, node=None, fault={"code": 500, "message": message, "created": iso(now)})

    # ---------------------------------------------------------------- compute step
    def _build_on_host(self, service: dict, row: dict, image: dict, ports: list, key: Optional[dict]) -> None:
        host = hypervisor_for(service)
        guest = Guest.from_catalog(row, image, ports, key, instance_name=self._free_instance_name(host, row))

        def spawning():
            with self.catalog.begin() as tx:
                _set(tx, row["id"], task_state="spawning")

        host.build(guest, timeout=float(self.params.get("timeout") or 180) if self.params.get("wait", True) else 5,
                   on_spawning=spawning)

    def _free_instance_name(self, host: Hypervisor, row: dict) -> str:
        """instance-%08x from the catalog's number, unless the host already has a domain of that name
        for another server (a second catalog sharing the host): then the next free number."""
        number = row["instance_number"]
        while True:
            if host.instance_name_free(drv.instance_name(number), row["id"]):
                break
            with self.catalog.begin() as tx:
                s = tx.t.servers
                number = max(number, tx.scalar(select(func.max(s.c.instance_number))) or 0) + 1
                _set(tx, row["id"], instance_number=number)
        row["instance_number"] = number
        return drv.instance_name(number)

    def _cleanup_host(self, service: dict, row: dict, ports: list) -> list:
        try:
            host = libvirt_host(service)
            return host.destroy(row["id"], row["id"] + ".",
                                [(p["libvirt_network"], p["mac_address"]) for p in ports])
        except (ComputeError, OSError) as exc:
            self.warnings.append(f"Cleaning up server {row['id']} on {service['host']} failed: {exc}")
            return []

    # ---------------------------------------------------------------- delete
    def delete(self, row: dict) -> list:
        """Nova's delete: the guest goes, then its volumes are released (the libvirt secret on
        the compute host, the target and its CHAP account on the block host) and freed."""
        removed = []
        with self.catalog.read() as tx:
            ports = networks.server_ports(tx, row["id"])
            service = service_row(tx, row["host"]) if row.get("host") else None
            volumes = attachments.plan_for_server(tx, row["id"])
        with self.catalog.begin() as tx:
            _set(tx, row["id"], task_state="deleting")
            task_id = tasks.begin(tx, "server", row["id"], "deleting", abandon=[
                {"table": "servers", "id": row["id"], "values": {
                    "status": "ERROR", "vm_state": "error", "task_state": None,
                    "fault": {"code": 500, "message": "{reason}", "created": "{now}"}}}])
        try:
            if service is not None:
                host = libvirt_host(service)
                try:
                    removed = host.destroy(row["id"], row["id"] + ".",
                                           [(p["libvirt_network"], p["mac_address"]) for p in ports])
                except (ComputeError, OSError) as exc:
                    raise ComputeError(f"Deleting server {row['name']} on host {row['host']} failed: {exc}. "
                                       "The server is kept in the catalog; retry when the host is "
                                       "reachable.") from exc
            errors = attachments.release_on_hosts(volumes, self.context, domain_gone=True)
            if errors:
                raise ComputeError(f"Deleting server {row['name']}: releasing its volumes failed: "
                                   f"{'; '.join(errors)}. The server is kept in the catalog; retry when the hosts "
                                   "are reachable.")
        except BaseException:
            with self.catalog.begin() as tx:
                _set(tx, row["id"], task_state=None)
                tasks.end(tx, task_id)
            raise
        removed.extend(f"attachment of volume {v['attachment']['volume_id']}" for v in volumes)
        with self.catalog.begin() as tx:
            tasks.end(tx, task_id)
            attachments.free(tx, volumes)
            release(tx, row["id"])
            tx.execute(delete(tx.t.ports).where(tx.t.ports.c.server_id == row["id"]))
            tx.execute(delete(tx.t.server_group_members).where(tx.t.server_group_members.c.server_id == row["id"]))
            now = tx.now()
            _set(tx, row["id"], status="DELETED", vm_state="deleted", task_state=None, power_state=drv.NOSTATE,
                 terminated_at=now)
            if service is not None:
                touch_service(tx, service["host"])
        return removed


# -------------------------------------------------------------------- actions
ACTIONS = {
    # action: (allowed vm_states, target vm_state)
    "start": (("stopped",), "active"),
    "stop": (("active", "paused", "suspended"), "stopped"),
    "pause": (("active",), "paused"),
    "unpause": (("paused",), "active"),
    "suspend": (("active",), "suspended"),
    "resume": (("suspended",), "active"),
    "reboot_soft": (("active",), "active"),
    "reboot_hard": (("active", "stopped", "paused", "suspended"), "active"),
}
POWER_OF = {"active": drv.RUNNING, "stopped": drv.SHUTDOWN, "paused": drv.PAUSED, "suspended": drv.SHUTDOWN}


def server_action(catalog, server: str, action: str, check_mode: bool = False, timeout: float = 180) -> dict:
    """start/stop/pause/unpause/suspend/resume/reboot_soft/reboot_hard with Nova's state changes."""
    if action not in ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
    allowed, target = ACTIONS[action]
    with catalog.read() as tx:
        row = require_server(tx, server)
        before = server_record(tx, row)
        service = service_row(tx, row["host"]) if row.get("host") else None
    is_reboot = action.startswith("reboot")
    if row["vm_state"] == target and not is_reboot:
        return {"changed": False, "server": before}
    if row["vm_state"] not in allowed or service is None:
        raise Conflict(f"Cannot '{action}' instance {row['id']} while it is in vm_state {row['vm_state']}")
    if check_mode:
        return {"changed": True, "server": before}
    host = libvirt_host(service)
    name = row["id"]  # the domain's UUID is the server's id
    task = {"stop": "powering-off", "start": "powering-on", "pause": "pausing", "unpause": "unpausing",
            "suspend": "suspending", "resume": "resuming", "reboot_soft": "rebooting",
            "reboot_hard": "rebooting_hard"}[action]
    with catalog.begin() as tx:
        _set(tx, row["id"], task_state=task)
    try:
        if action == "start":
            host.start(name, timeout)
        elif action == "stop":
            host.stop(name, timeout)
        elif action == "pause":
            host.pause(name)
        elif action == "unpause":
            host.unpause(name)
        elif action == "suspend":
            host.suspend(name)
        elif action == "resume":
            host.start(name, timeout)
        else:
            host.reboot(name, hard=action == "reboot_hard", timeout=timeout)
    except Exception:
        with catalog.begin() as tx:
            _set(tx, row["id"], task_state=None, power_state=host.power_state(name))
        raise
    with catalog.begin() as tx:
        _set(tx, row["id"], task_state=None, vm_state=target, status=STATUS_OF[target],
             power_state=host.power_state(name))
        touch_service(tx, service["host"])
        after = server_record(tx, find_server_row(tx, row["id"]))
    return {"changed": True, "server": after}


def console_log(catalog, server: str, length: Optional[int] = None) -> str:
    with catalog.read() as tx:
        row = require_server(tx, server)
        service = service_row(tx, row["host"]) if row.get("host") else None
    if service is None:
        return ""
    return libvirt_host(service).console_log(f"{row['id']}.console.log", length)


def server_image(catalog, server: str, name: str, check_mode: bool = False, context: Optional[dict] = None,
                 timeout: float = 600) -> dict:
    """``openstack server image create``: the server's disk, flattened, as a new private image."""
    from .imagefile import FileStore, digests, qemu_img_info
    from .images import image_record as _record
    from .images import store_dir

    with catalog.read() as tx:
        row = require_server(tx, server)
        i = tx.t.images
        existing = tx.one_or_none(select(i).where(i.c.name == name, i.c.project_id == row["project_id"]))
        if existing is not None:
            props = existing.get("properties") or {}
            if props.get("instance_uuid") != row["id"]:
                raise Conflict(f"An image named {name} already exists and is not a snapshot of server "
                               f"{row['name']}: choose another name.")
            return {"changed": False, "image": _record(existing)}
        service = service_row(tx, row["host"]) if row.get("host") else None
        base = tx.one_or_none(select(i).where(i.c.id == row["image_id"]))
        store = FileStore(store_dir(tx, context or {}))
        project = tx.one_or_none(select(tx.t.projects).where(tx.t.projects.c.id == row["project_id"]))
    if service is None or row["vm_state"] not in ("active", "stopped", "paused", "suspended"):
        raise Conflict(f"Cannot 'createImage' instance {row['id']} while it is in vm_state {row['vm_state']}")
    image_id = str(uuid.uuid4())
    properties = {
        "base_image_ref": row["image_id"] or "", "image_type": "snapshot", "instance_uuid": row["id"],
        "owner_project_name": project["name"] if project else "", "boot_roles": "admin",
        "hw_cdrom_bus": "ide", "hw_disk_bus": "virtio", "hw_machine_type": "pc", "hw_vif_model": "virtio",
    }
    if check_mode:
        preview = {"id": image_id, "name": name, "project_id": row["project_id"], "status": "queued",
                   "visibility": "private", "protected": False, "disk_format": "qcow2", "container_format": "bare",
                   "size": None, "virtual_size": None, "checksum": None, "os_hash_algo": None, "os_hash_value": None,
                   "min_disk": row["root_gb"], "min_ram": (base or {}).get("min_ram") or 0, "location": None,
                   "properties": properties, "tags": [], "created_at": None, "updated_at": None}
        return {"changed": True, "image": _record(preview)}
    host = libvirt_host(service)
    with catalog.begin() as tx:
        _set(tx, row["id"], task_state="image_snapshot")
    os.makedirs(store.root, exist_ok=True)
    tmp = os.path.join(store.root, f".{image_id}.partial")
    try:
        host.snapshot_disk(row["id"], f"{row['id']}.disk",
                           f"{row['id']}.snap-{image_id[:8]}", tmp, timeout=timeout)
        sums = digests(tmp)
        virtual = int(qemu_img_info(tmp).get("virtual-size", 0))
        path = store.adopt(image_id, tmp)
        with catalog.begin() as tx:
            now = tx.now()
            tx.execute(insert(tx.t.images), {
                "id": image_id, "name": name, "project_id": row["project_id"], "status": "active",
                "visibility": "private", "protected": False, "disk_format": "qcow2", "container_format": "bare",
                "size": sums["size"], "virtual_size": virtual, "checksum": sums["checksum"],
                "os_hash_algo": sums["os_hash_algo"], "os_hash_value": sums["os_hash_value"],
                "min_disk": row["root_gb"], "min_ram": (base or {}).get("min_ram") or 0,
                "location": "file://" + path, "properties": properties, "tags": [], "created_at": now,
                "updated_at": now})
            _set(tx, row["id"], task_state=None)
            created = tx.one_or_none(select(tx.t.images).where(tx.t.images.c.id == image_id))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        with catalog.begin() as tx:
            _set(tx, row["id"], task_state=None)
        raise
    return {"changed": True, "image": _record(created)}


def list_servers(catalog, server: Optional[str] = None) -> list:
    with catalog.read() as tx:
        if server:
            row = find_server_row(tx, server)
            return [server_record(tx, row)] if row else []
        s = tx.t.servers
        return [server_record(tx, r) for r in tx.all(select(s).where(live(s)).order_by(s.c.name, s.c.id))]
