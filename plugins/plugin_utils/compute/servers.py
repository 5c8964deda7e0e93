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
   left: ERROR. A host that could not be reached at all (no connection opened, so nothing
   was done there: a host stopped within service_down_time still counts as up) needs no
   cleaning; one whose cleaning fails keeps the server in ERROR with its claim.
"""

from __future__ import annotations

import time
import uuid
from typing import Optional

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from .. import testpoints, virtconn
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
from .drivers import Guest, Hypervisor, NotSupported
from .heartbeat import heartbeat
from .hosts import hypervisor_for, libvirt_host
from .images import image_record, require_image
from .lookups import find_keypair, find_server_row, service_row, usable_flavor
from .server_record import server_record, set_server

GiB = 1024 ** 3
IMMUTABLE_HINT = "resize and rebuild are not supported yet: delete the server and create it again"


class ServerFailed(CatalogError):
    """The request was accepted but the server ended in ERROR; ``server`` is its record."""

    def __init__(self, message: str, server: dict):
        self.server = server
        super().__init__(message)


def _reason(exc: BaseException) -> str:
    """One line for any exception: its message, or its type (KeyboardInterrupt has none)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text and not isinstance(exc, (ComputeError, CatalogError)) \
        else (text or type(exc).__name__)


def _interrupted(row: dict) -> bool:
    """A server whose build never finished because its run was killed or interrupted (not one
    whose build failed: that stays ERROR until deleted, as in Nova)."""
    message = (row.get("fault") or {}).get("message", "")
    return (row["status"] == "ERROR" and row.get("launched_at") is None
            and ("building was interrupted" in message or "aborted: KeyboardInterrupt" in message))


class HostUnreachable(ComputeError):
    """A build could not open a connection to its host at all: nothing was done there."""


def reach(host: Hypervisor) -> None:
    """Reach the host before a build does anything on it. When no connection opens (the host is
    stopped or its address does not answer), raise HostUnreachable: the build can go to an
    alternate host with nothing to clean up on this one (with a host that is reached but then
    fails, the build must clean up first)."""
    try:
        host.ping()
    except NotSupported:
        return
    except ComputeError as exc:
        if isinstance(exc.__cause__, virtconn.ConnectError):
            # ansible-test's pylint wrongly takes exc for something other than an exception here.
            raise HostUnreachable(str(exc)) from exc  # pylint: disable=bad-exception-cause
        raise


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
        if current is None and self.check_mode:
            with self.catalog.begin(dry_run=True) as tx:
                server_id = self._api_create(tx, project)
                after = server_record(tx, find_server_row(tx, server_id))
            return self._outcome(True, None, after)
        if current is None:
            # Find by name and record the new server under one write lock: of two runs creating
            # one name at the same moment, the second finds the first's server (issue 13 item 10).
            t0 = time.monotonic()
            with self.catalog.begin() as tx:
                current = find_server_row(tx, self.params["name"], project["id"])
                server_id = self._api_create(tx, project) if current is None else None
            if server_id is not None:
                self.timings["api"] = time.monotonic() - t0
                return self.create(server_id)
        if not self.check_mode and self._busy(current["id"]):
            # Another live run is building (or deleting) it: report the server as that run leaves it.
            from ..workflow import wait_for

            wait_for(self.catalog, "server", current["id"])
            with self.catalog.read() as tx:
                current = find_server_row(tx, current["id"])
            if current is None:
                return self.run()
        if not self.check_mode and _interrupted(current):
            return self._build_again(current)
        with self.catalog.read() as tx:
            before = server_record(tx, current)
        return self.update(current, before)

    def _build_abandon(self, server_id: str) -> tuple:
        """The build's task: if this process dies during it, the next run settles the server to
        ERROR (and a run of the same task then builds it again: ``_build_again``)."""
        ttl = float(self.params.get("timeout") or 180) * 3 + 600
        return ttl, [{"table": "servers", "id": server_id, "values": {
            "status": "ERROR", "vm_state": "error", "task_state": None,
            "fault": {"code": 500, "message": "{reason}", "created": "{now}"}}}]

    def _build_again(self, row: dict) -> dict:
        """A build that a killed (or interrupted) run never finished: the same task run again
        takes the server over, cleans what the first build left on its host, gives back its
        claim, and schedules and builds it again: the run converges."""
        ttl, abandon = self._build_abandon(row["id"])
        with self.catalog.begin() as tx:
            row = find_server_row(tx, row["id"])
            if row is None or not _interrupted(row) or tasks.active(tx, "server", row["id"]):
                row = None  # another run took it over meanwhile
            else:
                set_server(tx, row["id"], status="BUILD", vm_state="building", task_state="scheduling", fault=None)
                self.task_id = tasks.begin(tx, "server", row["id"], "building", ttl=ttl, abandon=abandon)
                ports = networks.server_ports(tx, row["id"])
                service = service_row(tx, row["host"]) if row.get("host") else None
        if row is None:
            return self.run()
        leftovers = self._cleanup_host(service, row, ports) if service is not None else []
        if leftovers:
            self._to_error(row["id"], f"Building instance {row['id']} again failed: its first build's leftovers "
                                      "could not be removed", leftovers=leftovers)
            raise self._failed(row["id"], self._fault(row["id"]))
        with self.catalog.begin() as tx:
            release(tx, row["id"])
            set_server(tx, row["id"], host=None, node=None, power_state=drv.NOSTATE)
        self.warnings.append(f"Server {row['name']} ({row['id']}): its build was interrupted "
                             f"({row['fault']['message']}); built it again")
        with self.catalog.read() as tx:
            before = server_record(tx, find_server_row(tx, row["id"]))
        outcome = self.create(row["id"])
        outcome["diff"]["before"] = self._outcome(False, before, None)["diff"]["before"]
        return outcome

    def _busy(self, server_id: str) -> bool:
        with self.catalog.read() as tx:
            return bool(tasks.active(tx, "server", server_id))

    def _outcome(self, changed: bool, before, after) -> dict:
        def diffable(rec):
            if not rec:
                return {}
            return {k: v for k, v in rec.items() if k not in ("updated", "launched_at")}

        return {"changed": changed, "server": after, "diff": {"before": diffable(before), "after": diffable(after)}}

    # ---------------------------------------------------------------- update
    def update(self, row: dict, before: dict) -> dict:
        p = self.params
        with self.catalog.begin(dry_run=self.check_mode) as tx:
            if p.get("flavor") is not None:
                flavor = usable_flavor(tx, p["flavor"])
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
                set_server(tx, row["id"], metadata=meta)
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
        flavor = usable_flavor(tx, p["flavor"])
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
            # run settles the server to ERROR (and the same task run again builds it again).
            ttl, abandon = self._build_abandon(server_id)
            self.task_id = tasks.begin(tx, "server", server_id, "building", ttl=ttl, abandon=abandon)
        return server_id

    def _zone(self):
        zone = self.params.get("availability_zone") or None
        if zone and ":" in zone:
            parts = zone.split(":")
            return (parts[0] or None), (parts[1] or None)
        return zone, None

    # ---------------------------------------------------------------- create
    def create(self, server_id: str) -> dict:
        """Schedule and build a server recorded by ``_api_create`` (BUILD / scheduling)."""
        try:
            self._schedule_and_build(server_id)
        except ServerFailed:
            raise
        except BaseException as exc:
            # Anything unexpected before or after the host work (Ctrl-C, a bug): never leave a
            # server stuck in BUILD (the build itself settles its own failures).
            if self.task_id is not None:
                self._to_error(server_id, f"Build of instance {server_id} aborted: {_reason(exc)}")
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

    def _schedule_and_build(self, server_id: str) -> None:
        t0 = time.monotonic()
        heartbeat(self.catalog)  # so that ComputeFilter's "up" means "its libvirtd answers now"
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
        queue, rebuilt = list(attempts), set()
        while queue:
            host = queue.pop(0)
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
                    set_server(tx, server_id, host=host, node=service["hypervisor_hostname"], task_state="networking",
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
                testpoints.reached("intent-recorded")
                self._build_on_host(service, row, image, ports, key)
                testpoints.reached("outcome")
            except BaseException as exc:
                # Any failure (a raw libvirtError, a bug, Ctrl-C) cleans the host it built on
                # first; the claim is given back only once nothing is left there.
                reason = _reason(exc)
                self.log(f"build of {server_id} on {host} failed: {reason}")
                errors.append(f"{host}: {reason}")
                # Asked before the cleanup, which connects again.
                lost = (isinstance(exc, Exception) and not isinstance(exc, HostUnreachable) and host not in rebuilt
                        and self._connection_lost(service, exc))
                # A host never reached has nothing of this build to clean up.
                leftovers = [] if isinstance(exc, HostUnreachable) else self._cleanup_host(service, row, ports)
                if leftovers or not isinstance(exc, Exception):
                    message = (f"Build of instance {server_id} on {host} failed: {reason}"
                               if isinstance(exc, Exception) else
                               f"Build of instance {server_id} on {host} aborted: {reason}")
                    self._to_error(server_id, message, leftovers=leftovers, failed_host=host)
                    if isinstance(exc, Exception):
                        raise self._failed(server_id, self._fault(server_id)) from exc
                    raise
                with self.catalog.begin() as tx:
                    release(tx, server_id)
                    c = tx.t.compute_services
                    tx.execute(update(c).where(c.c.host == host).values(failed_builds=c.c.failed_builds + 1))
                    set_server(tx, server_id, host=None, node=None, task_state="scheduling", power_state=drv.NOSTATE)
                if lost:
                    # The host's libvirtd went away under the build (restarted) and the cleanup,
                    # on a new connection, left nothing there: build on that host once more.
                    rebuilt.add(host)
                    queue.insert(0, host)
                    self.warnings.append(f"Server {row['name']} ({server_id}): the connection to {host} was lost "
                                         f"during its build ({reason}); cleaned the host and built it again")
                continue
            self.timings["build"] = time.monotonic() - t1
            with self.catalog.begin() as tx:
                c = tx.t.compute_services
                tx.execute(update(c).where(c.c.host == host).values(failed_builds=0))
                touch_service(tx, host)
                tx.execute(update(tx.t.ports).where(tx.t.ports.c.server_id == server_id).values(status="ACTIVE"))
                now = tx.now()
                set_server(tx, server_id, status="ACTIVE", vm_state="active", task_state=None,
                           power_state=drv.RUNNING, launched_at=now, fault=None)
                tasks.end(tx, self.task_id)
            self.task_id = None
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

    def _to_error(self, server_id: str, message: str, leftovers: Optional[list] = None,
                  failed_host: Optional[str] = None) -> None:
        """ERROR with the reason. The claim is released (and the host forgotten) only when the
        host was cleaned: what could not be removed stays counted on its host, and a delete
        (state: absent) finds it there and tries again."""
        with self.catalog.begin() as tx:
            if self.task_id:
                tasks.end(tx, self.task_id)
                self.task_id = None
            now = tx.now()
            if failed_host is not None:
                c = tx.t.compute_services
                tx.execute(update(c).where(c.c.host == failed_host).values(failed_builds=c.c.failed_builds + 1))
            if leftovers:
                message += (". Cleaning the host failed too (" + "; ".join(leftovers) + "): the server keeps its "
                            "host and claim; delete it (state: absent) to remove what is left")
                set_server(tx, server_id, status="ERROR", vm_state="error", task_state=None,
                           power_state=drv.NOSTATE, fault={"code": 500, "message": message, "created": iso(now)})
                return
            release(tx, server_id)
            set_server(tx, server_id, status="ERROR", vm_state="error", task_state=None, power_state=drv.NOSTATE,
                       host=None, node=None, fault={"code": 500, "message": message, "created": iso(now)})

    def _fault(self, server_id: str) -> str:
        with self.catalog.read() as tx:
            return (find_server_row(tx, server_id).get("fault") or {}).get("message", "")

    # ---------------------------------------------------------------- compute step
    def _build_on_host(self, service: dict, row: dict, image: dict, ports: list, key: Optional[dict]) -> None:
        host = hypervisor_for(service)
        reach(host)
        guest = Guest.from_catalog(row, image, ports, key, instance_name=self._free_instance_name(host, row))

        def spawning():
            with self.catalog.begin() as tx:
                set_server(tx, row["id"], task_state="spawning")

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
                set_server(tx, row["id"], instance_number=number)
        row["instance_number"] = number
        return drv.instance_name(number)

    @staticmethod
    def _connection_lost(service: dict, exc: BaseException) -> bool:
        try:
            return hypervisor_for(service).connection_lost(exc)
        except Exception:  # no driver for the host: the build failed for that, not a lost connection
            return False

    def _cleanup_host(self, service: dict, row: dict, ports: list) -> list:
        """Remove the domain, the disk and config drive, the DHCP reservations of a failed build.
        Returns what could not be removed (empty: the host is clean)."""
        try:
            host = hypervisor_for(service)
            host.destroy(row["id"], row["id"] + ".", [(p["libvirt_network"], p["mac_address"]) for p in ports])
            left = []
            if hasattr(host, "instance_volumes"):  # the libvirt drivers: look again, trust nothing
                left = [f"volume {name}" for name in host.instance_volumes(row["id"] + ".")]
            if getattr(host, "domain_uuid", lambda _n: None)(row["id"]) is not None:
                left.append(f"domain {row['id']}")
        except BaseException as exc:  # a second Ctrl-C during the cleanup, too: report it
            left = [f"on {service['host']}: {_reason(exc)}"]
        if left:
            self.warnings.append(f"Cleaning up server {row['id']} on {service['host']} left: {'; '.join(left)}")
        return left

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
            set_server(tx, row["id"], task_state="deleting")
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
                set_server(tx, row["id"], task_state=None)
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
            set_server(tx, row["id"], status="DELETED", vm_state="deleted", task_state=None, power_state=drv.NOSTATE,
                       terminated_at=now)
            if service is not None:
                touch_service(tx, service["host"])
        return removed
