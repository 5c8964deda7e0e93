# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Networks (a Neutron network with its one subnet), realised as libvirt networks on KVM hosts.

Each KVM host gets its own libvirt network for a catalog network (nova-network's
multi_host model): NAT or isolated with libvirt's DHCP, or bridged onto a host bridge.
The controller allocates each port's address from the CIDR (Neutron's IPAM) and the
host's DHCP server hands it out through a mac -> ip reservation, so addresses are known
before the guest boots and never collide between hosts.
"""

from __future__ import annotations

import ipaddress
import random
import re
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, func, insert, select, update
except ImportError:
    pass

from ..catalog import Conflict, InvalidInput, find_project, lookup
from ..catalog.resource import Resource, iso, require_int, require_name
from . import xmlgen
from .hosts import libvirt_host

MODES = ("nat", "isolated", "bridged")
# libvirt refuses a DHCP range of more than 65,535 addresses ("range ... is too large"), so a
# /16 is the largest network; a /29 (6 addresses: a gateway and 5 ports) the smallest.
MIN_PREFIX, MAX_PREFIX = 16, 29
OPENSTACK_MAC_PREFIX = (0xFA, 0x16, 0x3E)  # Neutron's default base_mac


def libvirt_name(name: str, network_id: str) -> str:
    """Readable and unique per network: two catalogs sharing a host may both have an ``intnet``."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name):
        return f"ministack-{name}-{network_id[:8]}"
    return f"ministack-{network_id[:8]}"


def bridge_name(network_id: str) -> str:
    return "msbr-" + network_id.replace("-", "")[:10]  # Linux allows 15 characters


def network_record(row: dict, ports_in_use: int | None = None) -> dict:
    rec = {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "subnets": [row["subnet_id"]] if row.get("subnet_id") else [],
        "project_id": row["project_id"],
        "shared": bool(row["shared"]),
        "is_shared": bool(row["shared"]),
        "admin_state_up": True,
        "mtu": row.get("mtu") or 1500,
        "is_router_external": False,
        "provider_network_type": "flat" if row.get("network_mode") == "bridged" else "local",
        "cidr": row["cidr"],
        "gateway_ip": row["gateway_ip"],
        "enable_dhcp": bool(row["enable_dhcp"]),
        "dns_nameservers": list(row.get("dns_nameservers") or []),
        "mode": row.get("network_mode") or "nat",
        "bridge": row.get("bridge"),
        "libvirt_network": row["libvirt_network"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if ports_in_use is not None:
        rec["ports_in_use"] = ports_in_use
    return rec


def network_spec(row: dict, hosts: list | None = None) -> xmlgen.NetworkSpec:
    return xmlgen.NetworkSpec(
        name=row["libvirt_network"], bridge=row["bridge"], mode=row.get("network_mode") or "nat",
        cidr=row["cidr"] if row.get("network_mode") != "bridged" else None,
        gateway=row["gateway_ip"], dhcp=bool(row["enable_dhcp"]), mtu=row.get("mtu"),
        hosts=hosts or [])


def find_network_row(tx, name_or_id: str):
    return lookup.find(tx, tx.t.networks, name_or_id, "network")


def require_network(tx, name_or_id: str) -> dict:
    return lookup.find(tx, tx.t.networks, name_or_id, "network", required=True)


def dhcp_hostname(ip: str) -> str:
    """The name of a port's DHCP reservation, unique on its network because its address is:
    Neutron's DHCP agent writes ``host-10-0-0-5`` the same way. Two servers whose names
    sanitise alike (``web 1``, ``web_1``; or with no ASCII letter, both ``server``) would
    otherwise collide in libvirt ("existing dhcp host entry"). The guest's own hostname is
    Nova's sanitised display name, given by the config drive."""
    return "host-" + str(ip).replace(".", "-").replace(":", "-")


def random_mac(tx) -> str:
    ports = tx.t.ports
    while True:
        tail = [random.randint(0, 255) for _byte in range(3)]
        mac = ":".join(f"{b:02x}" for b in (*OPENSTACK_MAC_PREFIX, *tail))
        if tx.scalar(select(func.count()).select_from(ports).where(ports.c.mac_address == mac)) == 0:
            return mac


def allocate_ip(tx, net: dict) -> str | None:
    """The lowest free address of the network's subnet, skipping the gateway (Neutron's IPAM)."""
    if not net.get("cidr") or net.get("network_mode") == "bridged":
        return None
    ports = tx.t.ports
    used = set(tx.scalars(select(ports.c.ip_address).where(ports.c.network_id == net["id"])))
    used.add(net["gateway_ip"])
    for address in ipaddress.ip_network(net["cidr"], strict=False).hosts():
        text = str(address)
        if text not in used:
            return text
    raise Conflict(f"No more IP addresses available on network {net['id']}.")


def create_port(tx, net: dict, server_id: str, host: str | None = None) -> dict:
    port = {"id": str(uuid.uuid4()), "network_id": net["id"], "server_id": server_id, "host": host,
            "mac_address": random_mac(tx), "ip_address": allocate_ip(tx, net), "status": "DOWN",
            "created_at": tx.now(), "updated_at": None}
    tx.execute(insert(tx.t.ports), port)
    return port


def server_ports(tx, server_id: str) -> list:
    p, n = tx.t.ports, tx.t.networks
    rows = tx.all(select(p, n.c.name.label("network_name"), n.c.libvirt_network, n.c.cidr, n.c.gateway_ip,
                         n.c.enable_dhcp, n.c.mtu, n.c.dns_nameservers, n.c.network_mode, n.c.bridge)
                  .join(n, n.c.id == p.c.network_id).where(p.c.server_id == server_id)
                  .order_by(p.c.created_at, p.c.id))
    return rows


class Network(Resource):
    result_key = "network"
    compared = ("shared",)
    immutable = ("cidr", "gateway_ip", "enable_dhcp", "mode", "bridge", "mtu")

    def find(self, tx):
        row = find_network_row(tx, self.params["name"])
        return network_record(row) if row else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        mode = p.get("mode") or (current or {}).get("mode") or "nat"
        if mode not in MODES:
            raise InvalidInput("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
        cidr = p.get("cidr")
        gateway = p.get("gateway_ip")
        if gateway is not None:
            try:
                gw = ipaddress.ip_address(str(gateway))
            except ValueError:
                raise InvalidInput("gateway_ip", f"must be an IPv4 address such as 10.5.5.1, got {gateway!r}") from None
            if gw.version != 4:
                raise InvalidInput("gateway_ip", f"must be an IPv4 address such as 10.5.5.1, got {gateway!r}")
            gateway = str(gw)
        if cidr is not None:
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise InvalidInput("cidr", f"must be a network such as 10.5.5.0/24, got {cidr!r}") from None
            if net.version != 4 or not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
                raise InvalidInput("cidr", f"must be an IPv4 network from /{MIN_PREFIX} (65,534 addresses) to "
                                           f"/{MAX_PREFIX} (6 addresses), got {cidr!r}")
            cidr = str(net)
            if gateway is None and mode != "bridged":
                gateway = xmlgen.default_gateway(cidr)
            if gateway is not None:
                gw = ipaddress.ip_address(gateway)
                if gw not in net:
                    raise InvalidInput("gateway_ip", f"{gateway} is not in {cidr}")
                if gw in (net.network_address, net.broadcast_address):
                    raise InvalidInput("gateway_ip", f"{gateway} is the network or broadcast address of {cidr}: "
                                                     "use a host address of the network")
        elif current is None and mode != "bridged":
            raise InvalidInput("cidr", "is required for a nat or isolated network (for example 10.5.5.0/24)")
        if mode == "bridged" and not (p.get("bridge") or (current or {}).get("bridge")):
            raise InvalidInput("bridge", "is required for a bridged network: the host bridge to join (e.g. br0)")
        if mode != "bridged" and p.get("bridge"):
            raise InvalidInput("bridge", "is only for mode bridged; nat and isolated networks get their own bridge")
        want = {"name": name, "cidr": cidr, "gateway_ip": gateway, "enable_dhcp": p.get("enable_dhcp"),
                "mode": mode, "bridge": p.get("bridge"), "mtu": require_int("mtu", p.get("mtu"), minimum=576, maximum=65535),
                "shared": p.get("shared"), "dns_nameservers": p.get("dns_nameservers"),
                "project_id": find_project(tx, p.get("project"))["id"]}
        if current is not None:
            for field in self.immutable:
                if want.get(field) is not None and want[field] != current.get(field):
                    raise Conflict(f"Network {name} exists with {field} {current.get(field)!r}; {field} cannot "
                                   f"be changed while guests may use it: delete the network and create it again.")
        return want

    def create(self, tx, desired):
        network_id = str(uuid.uuid4())
        now = tx.now()
        tx.execute(insert(tx.t.networks), {
            "id": network_id, "name": desired["name"], "project_id": desired["project_id"], "status": "ACTIVE",
            "shared": bool(desired["shared"]), "cidr": desired["cidr"], "gateway_ip": desired["gateway_ip"],
            "enable_dhcp": desired["enable_dhcp"] if desired["enable_dhcp"] is not None else True,
            "libvirt_network": libvirt_name(desired["name"], network_id), "subnet_id": str(uuid.uuid4()),
            "network_mode": desired["mode"],
            "bridge": desired["bridge"] if desired["mode"] == "bridged" else bridge_name(network_id),
            "mtu": desired["mtu"], "dns_nameservers": desired["dns_nameservers"] or [], "properties": {},
            "created_at": now, "updated_at": now})

    def update(self, tx, current, desired, changes):
        t = tx.t.networks
        tx.execute(update(t).where(t.c.id == current["id"]).values(**changes, updated_at=tx.now()))

    def delete(self, tx, current):
        ports = tx.t.ports
        in_use = tx.scalar(select(func.count()).select_from(ports).where(ports.c.network_id == current["id"]))
        if in_use:
            raise Conflict(f"Unable to complete operation on network {current['id']}. There are one or more "
                           f"ports still in use on the network ({in_use}): delete the servers on it first.")
        tx.execute(delete(tx.t.networks).where(tx.t.networks.c.id == current["id"]))


class NetworkInfo(Resource):
    result_key = "networks"
    read_only = True

    def run(self, tx):
        t, p = tx.t.networks, tx.t.ports
        counts = dict(tx.execute(select(p.c.network_id, func.count()).group_by(p.c.network_id)).all())
        rows = tx.all(select(t).order_by(t.c.name))
        wanted = self.params.get("name")
        if wanted:
            rows = [r for r in rows if wanted in (r["id"], r["name"])]
        return {"changed": False, "networks": [network_record(r, counts.get(r["id"], 0)) for r in rows]}


def realize_on_hosts(catalog, record: dict, absent: bool = False, check_mode: bool = False) -> list:
    """Make every registered KVM host's libvirt network match the record; returns the hosts changed."""
    with catalog.read() as tx:
        services = tx.all(select(tx.t.compute_services).order_by(tx.t.compute_services.c.host))
    row = {"libvirt_network": record["libvirt_network"], "bridge": record["bridge"], "network_mode": record["mode"],
           "cidr": record["cidr"], "gateway_ip": record["gateway_ip"], "enable_dhcp": record["enable_dhcp"],
           "mtu": record["mtu"]}
    changed = []
    for service in services:
        host = libvirt_host(service)
        if absent:
            done = host.delete_network(row["libvirt_network"], check_mode=check_mode)
        else:
            done = host.ensure_network(network_spec(row), check_mode=check_mode)
        if done:
            changed.append(service["host"])
    return changed
