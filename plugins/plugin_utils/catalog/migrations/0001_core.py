# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog's core schema: every resource, with the columns the API resources need.

Compute, block and object engineers add their own columns in later migrations
(0100_*, 0200_*, 0300_*) with ``op.add_column``. Conventions:

* ids are strings: UUIDs for most resources, the user's flavor id for flavors,
  an integer for aggregates (as Nova shows them);
* times are naive UTC ``DateTime`` columns; results print them as Nova does
  (``2025-01-15T06:12:09.000000``);
* free-form dicts (metadata, capabilities, fault) are ``JSON``;
* key/value metadata that filters match on (flavor extra specs, aggregate metadata)
  lives in its own table so that a key can be unique and indexed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

try:
    from sqlalchemy import (
        JSON,
        Boolean,
        Column,
        DateTime,
        Float,
        ForeignKey,
        Integer,
        String,
        Text,
        UniqueConstraint,
    )
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

DEFAULT_PROJECT_NAME = "admin"


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _times():
    return [
        Column("created_at", DateTime, nullable=False),
        Column("updated_at", DateTime, nullable=True),
    ]


def _uuid_pk():
    return Column("id", String(36), primary_key=True)


def _project():
    return Column("project_id", String(36), ForeignKey("projects.id"), nullable=False, index=True)


def upgrade(op):
    op.create_table(
        "projects",
        Column("id", String(36), primary_key=True),
        Column("name", String(255), nullable=False, unique=True),
        Column("description", Text),
        Column("is_default", Boolean, nullable=False, default=False),
        *_times(),
    )

    # --- Nova API resources -------------------------------------------------------
    op.create_table(
        "flavors",
        Column("id", String(255), primary_key=True),  # Nova's flavorid: '1', '10', a UUID
        Column("name", String(255), nullable=False, unique=True),
        Column("ram", Integer, nullable=False),
        Column("vcpus", Integer, nullable=False),
        Column("disk", Integer, nullable=False),
        Column("ephemeral", Integer, nullable=False, default=0),
        Column("swap", Integer, nullable=False, default=0),
        Column("rxtx_factor", Float, nullable=False, default=1.0),
        Column("is_public", Boolean, nullable=False, default=True),
        Column("disabled", Boolean, nullable=False, default=False),
        Column("description", Text),
        *_times(),
    )
    op.create_table(
        "flavor_extra_specs",
        Column("flavor_id", String(255), ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("value", String(255), nullable=False),
    )
    op.create_table(
        "flavor_projects",  # access list of a private flavor
        Column("flavor_id", String(255), ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True),
        Column("project_id", String(36), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    )

    op.create_table(
        "aggregates",
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("uuid", String(36), nullable=False, unique=True),
        Column("name", String(255), nullable=False, unique=True),
        *_times(),
    )
    op.create_table(
        "aggregate_metadata",  # the availability zone is the key 'availability_zone', as in Nova
        Column("aggregate_id", Integer, ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("value", String(255), nullable=False),
    )
    op.create_table(
        "aggregate_hosts",
        Column("aggregate_id", Integer, ForeignKey("aggregates.id", ondelete="CASCADE"), primary_key=True),
        Column("host", String(255), primary_key=True, index=True),
    )

    op.create_table(
        "keypairs",  # public keys only: a private key leaves the controller once, never stored
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(255), nullable=False),
        _project(),
        Column("type", String(16), nullable=False, default="ssh"),
        Column("public_key", Text, nullable=False),
        Column("fingerprint", String(255), nullable=False),
        *_times(),
        UniqueConstraint("project_id", "name", name="uq_keypairs_project_name"),
    )

    op.create_table(
        "quotas",  # only overrides; a missing row means the default limit
        Column("project_id", String(36), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        Column("resource", String(64), primary_key=True),
        Column("hard_limit", Integer, nullable=False),
        *_times(),
    )

    op.create_table(
        "compute_services",
        _uuid_pk(),
        Column("host", String(255), nullable=False, unique=True),
        Column("binary", String(64), nullable=False, default="nova-compute"),
        Column("hypervisor_hostname", String(255), nullable=False),
        Column("hypervisor_type", String(32), nullable=False, default="QEMU"),
        Column("hypervisor_version", Integer),
        Column("host_ip", String(64)),
        Column("libvirt_uri", String(512)),  # how the controller reaches the host (compute.driver.host_uri)
        Column("vcpus", Integer, nullable=False),
        Column("memory_mb", Integer, nullable=False),
        Column("local_gb", Integer, nullable=False),
        Column("cpu_allocation_ratio", Float, nullable=False, default=4.0),
        Column("ram_allocation_ratio", Float, nullable=False, default=1.0),
        Column("disk_allocation_ratio", Float, nullable=False, default=1.0),
        Column("reserved_host_memory_mb", Integer, nullable=False, default=512),
        Column("reserved_host_disk_mb", Integer, nullable=False, default=0),
        Column("reserved_host_cpus", Integer, nullable=False, default=0),
        Column("enabled", Boolean, nullable=False, default=True),
        Column("disabled_reason", String(255)),
        Column("forced_down", Boolean, nullable=False, default=False),
        Column("last_seen", DateTime),  # the last time the controller reached the host
        Column("failed_builds", Integer, nullable=False, default=0),
        Column("capabilities", JSON),  # cpu_info, supported_instances, free-form stats
        *_times(),
    )

    op.create_table(
        "server_groups",
        _uuid_pk(),
        Column("name", String(255), nullable=False),
        _project(),
        Column("policy", String(32), nullable=False),
        Column("rules", JSON),  # {"max_server_per_host": N} for anti-affinity
        *_times(),
        UniqueConstraint("project_id", "name", name="uq_server_groups_project_name"),
    )
    op.create_table(
        "server_group_members",
        Column("group_id", String(36), ForeignKey("server_groups.id", ondelete="CASCADE"), primary_key=True),
        Column("server_id", String(36), primary_key=True, index=True),
    )

    # --- Glance / Neutron stand-ins ------------------------------------------------
    op.create_table(
        "images",
        _uuid_pk(),
        Column("name", String(255), nullable=False, index=True),
        _project(),
        Column("status", String(32), nullable=False, default="queued"),
        Column("visibility", String(16), nullable=False, default="shared"),
        Column("protected", Boolean, nullable=False, default=False),
        Column("disk_format", String(32)),
        Column("container_format", String(32)),
        Column("size", Integer),
        Column("virtual_size", Integer),
        Column("checksum", String(32)),  # MD5, as Glance
        Column("os_hash_algo", String(32)),
        Column("os_hash_value", String(128)),
        Column("min_disk", Integer, nullable=False, default=0),
        Column("min_ram", Integer, nullable=False, default=0),
        Column("location", String(1024)),  # where the bytes are: swift://... or file://...
        Column("properties", JSON),
        *_times(),
    )
    op.create_table(
        "networks",
        _uuid_pk(),
        Column("name", String(255), nullable=False, unique=True),
        _project(),
        Column("status", String(32), nullable=False, default="ACTIVE"),
        Column("shared", Boolean, nullable=False, default=False),
        Column("cidr", String(64)),
        Column("gateway_ip", String(64)),
        Column("enable_dhcp", Boolean, nullable=False, default=True),
        Column("libvirt_network", String(255)),
        Column("properties", JSON),
        *_times(),
    )

    # --- Servers and what they hold ------------------------------------------------
    op.create_table(
        "servers",
        _uuid_pk(),
        Column("name", String(255), nullable=False, index=True),
        _project(),
        Column("status", String(32), nullable=False, default="BUILD"),
        Column("vm_state", String(32), nullable=False, default="building"),
        Column("task_state", String(32)),
        Column("power_state", Integer, nullable=False, default=0),
        Column("host", String(255), index=True),
        Column("node", String(255)),  # hypervisor_hostname
        Column("availability_zone", String(255)),
        Column("requested_availability_zone", String(255)),
        # The flavor as it was at boot (Nova keeps a copy too): later flavor edits must not
        # change what a running server is accounted for.
        Column("flavor_id", String(255), index=True),
        Column("flavor", JSON),
        Column("vcpus", Integer, nullable=False, default=0),
        Column("memory_mb", Integer, nullable=False, default=0),
        Column("root_gb", Integer, nullable=False, default=0),
        Column("ephemeral_gb", Integer, nullable=False, default=0),
        Column("image_id", String(36)),
        Column("key_name", String(255)),
        Column("config_drive", Boolean, nullable=False, default=False),
        Column("user_data", Text),
        Column("metadata", JSON),
        Column("addresses", JSON),
        Column("fault", JSON),  # {"code", "message", "details", "created"} when status is ERROR
        Column("launched_at", DateTime),
        Column("terminated_at", DateTime),
        *_times(),
    )
    op.create_table(
        "allocations",  # resources a server holds on a host, claimed atomically (claim())
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("server_id", String(36), nullable=False, unique=True),
        Column(
            "host", String(255), ForeignKey("compute_services.host", ondelete="RESTRICT"), nullable=False, index=True
        ),
        Column("vcpus", Integer, nullable=False),
        Column("memory_mb", Integer, nullable=False),
        Column("disk_gb", Integer, nullable=False),
        *_times(),
    )

    # --- Cinder ------------------------------------------------------------------
    op.create_table(
        "volume_services",
        _uuid_pk(),
        Column("host", String(255), nullable=False, unique=True),  # 'node@backend', as Cinder
        Column("binary", String(64), nullable=False, default="cinder-volume"),
        Column("backend_name", String(255)),
        Column("availability_zone", String(255), nullable=False, default="nova"),
        Column("volume_group", String(255)),
        Column("target_helper", String(32), nullable=False, default="tgtadm"),
        Column("target_ip", String(64)),
        Column("target_port", Integer, nullable=False, default=3260),
        Column("capacity_gb", Integer),
        Column("reserved_percentage", Integer, nullable=False, default=0),
        Column("max_over_subscription_ratio", Float, nullable=False, default=20.0),
        Column("enabled", Boolean, nullable=False, default=True),
        Column("disabled_reason", String(255)),
        Column("last_seen", DateTime),
        Column("capabilities", JSON),
        *_times(),
    )
    op.create_table(
        "volumes",
        _uuid_pk(),
        Column("name", String(255), index=True),
        _project(),
        Column("size", Integer, nullable=False),
        Column("status", String(32), nullable=False, default="creating"),
        Column("attach_status", String(32), nullable=False, default="detached"),
        Column("availability_zone", String(255), nullable=False, default="nova"),
        Column("host", String(255), index=True),  # the volume service holding it
        Column("volume_type", String(255)),
        Column("bootable", Boolean, nullable=False, default=False),
        Column("multiattach", Boolean, nullable=False, default=False),
        Column("description", Text),
        Column("metadata", JSON),
        Column("source_volid", String(36)),
        Column("snapshot_id", String(36)),
        Column("image_id", String(36)),
        Column("provider_location", String(512)),
        Column("provider_auth", Text),  # encrypted with the operator's key, never shown
        *_times(),
    )
    op.create_table(
        "snapshots",
        _uuid_pk(),
        Column("name", String(255), index=True),
        _project(),
        Column("volume_id", String(36), ForeignKey("volumes.id"), nullable=False, index=True),
        Column("size", Integer, nullable=False),
        Column("status", String(32), nullable=False, default="creating"),
        Column("progress", String(8)),
        Column("description", Text),
        Column("metadata", JSON),
        Column("provider_location", String(512)),
        *_times(),
    )
    op.create_table(
        "backups",
        _uuid_pk(),
        Column("name", String(255), index=True),
        _project(),
        Column("volume_id", String(36), nullable=False, index=True),  # the volume may be gone later
        Column("snapshot_id", String(36)),
        Column("parent_id", String(36)),
        Column("is_incremental", Boolean, nullable=False, default=False),
        Column("size", Integer, nullable=False),
        Column("status", String(32), nullable=False, default="creating"),
        Column("availability_zone", String(255)),
        Column("container", String(255)),
        Column("service_metadata", String(255)),  # the object-name prefix
        Column("object_count", Integer, nullable=False, default=0),
        Column("description", Text),
        Column("fail_reason", Text),
        Column("data_timestamp", DateTime),
        *_times(),
    )
    op.create_table(
        "attachments",
        _uuid_pk(),
        Column("volume_id", String(36), ForeignKey("volumes.id"), nullable=False, index=True),
        Column("server_id", String(36), nullable=False, index=True),
        Column("host", String(255)),  # compute host the volume is attached on
        Column("device", String(64)),
        Column("attach_mode", String(8), nullable=False, default="rw"),
        Column("status", String(32), nullable=False, default="attaching"),
        Column("connection_info", JSON),  # secrets inside are encrypted
        *_times(),
    )

    op.bulk_insert(
        "projects",
        [
            {
                "id": uuid.uuid4().hex,
                "name": DEFAULT_PROJECT_NAME,
                "description": "The default project: resources without a project belong here.",
                "is_default": True,
                "created_at": _now(),
            }
        ],
    )
