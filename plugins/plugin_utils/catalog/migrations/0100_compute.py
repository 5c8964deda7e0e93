# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute's additions to the catalog: instance names, networks' realisation, ports, image tags.

* servers.instance_number: Nova's instance id behind ``instance-%08x`` (never reused);
  servers.retry: the hosts a build was tried on (Nova's filter_properties['retry']).
* networks: how the network is realised on each KVM host (NAT, isolated or bridged onto
  a host bridge), its subnet id (``openstack network list`` shows it), MTU and DNS.
* ports: Neutron's ports stand-in. The controller allocates the address (IPAM) and the
  host's libvirt DHCP server hands it out through a reservation (mac -> ip).
* images.tags: Glance's image tags.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
except ImportError:
    pass


def upgrade(op):
    op.add_column("servers", Column("instance_number", Integer))
    op.add_column("servers", Column("retry", JSON))
    op.add_column("networks", Column("subnet_id", String(36)))
    op.add_column("networks", Column("network_mode", String(16)))  # nat | isolated | bridged
    op.add_column("networks", Column("bridge", String(15)))
    op.add_column("networks", Column("mtu", Integer))
    op.add_column("networks", Column("dns_nameservers", JSON))
    op.add_column("images", Column("tags", JSON))
    op.create_table(
        "ports",
        Column("id", String(36), primary_key=True),
        Column("network_id", String(36), ForeignKey("networks.id"), nullable=False, index=True),
        Column("server_id", String(36), index=True),
        Column("host", String(255)),
        Column("mac_address", String(17), nullable=False, unique=True),
        Column("ip_address", String(64)),
        Column("status", String(16), nullable=False, default="DOWN"),
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime),
        UniqueConstraint("network_id", "ip_address", name="uq_ports_network_ip"),
    )
