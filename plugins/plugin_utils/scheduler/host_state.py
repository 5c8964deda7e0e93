# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host states: the input dicts normalised with Nova's defaults.

Input fields use Nova's hypervisor names (name, enabled, up, vcpus, vcpus_used,
memory_mb, memory_mb_used, local_gb, local_gb_used, running_vms, the three
allocation ratios, reserved_host_memory_mb, hypervisor_type, capabilities,
instances, num_io_ops, failed_builds).  ``*_used`` counts what instances use
(placement's usage); the reserved amounts are subtracted from the totals, as
placement does: ``used + requested <= (total - reserved) * allocation_ratio``.
"""

from __future__ import annotations

import collections
import json
import math

from .errors import SchedulerInputError

# Exact classes, not isinstance(): bool is an int subclass and must go through validation.
_PLAIN_NUMBERS = (int, float)

# Nova's configuration defaults (nova/conf/compute.py, nova/conf/scheduler.py).
DEFAULT_CONFIG = {
    "enabled_filters": [
        "ComputeFilter",
        "ComputeCapabilitiesFilter",
        "ImagePropertiesFilter",
        "ServerGroupAntiAffinityFilter",
        "ServerGroupAffinityFilter",
    ],
    "weight_classes": ["all_weighers"],
    "ram_weight_multiplier": 1.0,
    "cpu_weight_multiplier": 1.0,
    "disk_weight_multiplier": 1.0,
    "io_ops_weight_multiplier": -1.0,
    "num_instances_weight_multiplier": 0.0,
    "soft_affinity_weight_multiplier": 1.0,
    "soft_anti_affinity_weight_multiplier": 1.0,
    "build_failure_weight_multiplier": 1000000.0,
    "host_subset_size": 1,
    "max_attempts": 3,
    "shuffle_best_same_weighed_hosts": False,
    "default_availability_zone": "nova",
    "cpu_allocation_ratio": None,
    "ram_allocation_ratio": None,
    "disk_allocation_ratio": None,
    "initial_cpu_allocation_ratio": 4.0,
    "initial_ram_allocation_ratio": 1.0,
    "initial_disk_allocation_ratio": 1.0,
    "reserved_host_memory_mb": 512,
    "reserved_host_disk_mb": 0,
    "reserved_host_cpus": 0,
    "max_io_ops_per_host": 8,
    "max_instances_per_host": 50,
    "image_properties_default_architecture": None,
    "image_properties_default_hypervisor_type": "qemu",
    "random_seed": None,
}

# Attribute names of nova.scheduler.host_manager.HostState that an unscoped
# flavor extra spec may name (ComputeCapabilitiesFilter checks those only).
NOVA_HOST_STATE_ATTRIBUTES = frozenset(
    (
        "host", "nodename", "hypervisor_hostname", "hypervisor_type", "hypervisor_version",
        "cpu_info", "supported_instances", "total_usable_ram_mb", "free_ram_mb",
        "total_usable_disk_gb", "free_disk_mb", "disk_mb_used", "vcpus_total", "vcpus_used",
        "num_instances", "num_io_ops", "failed_builds", "cpu_allocation_ratio",
        "ram_allocation_ratio", "disk_allocation_ratio", "aggregates", "instances", "stats",
        "service", "uuid", "cell_uuid", "host_ip", "numa_topology", "pci_stats", "metrics",
        "limits", "updated",
    )
)

_NUMERIC_FIELDS = (
    "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb", "local_gb_used",
    "num_io_ops", "failed_builds",
)


def _number(value, index, name, field):
    where = f"hosts[{index}] ({name})"
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise SchedulerInputError(f"{where}: {field} must be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value) if "." in str(value) else int(value)
    except (TypeError, ValueError):
        raise SchedulerInputError(f"{where}: {field} must be a number, got {value!r}") from None


def _flag(raw, key, alias, alias_true, index):
    """enabled/up, or Nova's hypervisor status/state strings as a fallback."""
    value = raw.get(key)
    if value is None:
        other = raw.get(alias)
        return True if other is None else str(other).lower() == alias_true
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "yes", "1", "on", alias_true):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise SchedulerInputError(f"hosts[{index}] ({raw.get('name')}): {key} must be a boolean, got {value!r}")
    return bool(value)


def _ratio(value, index, name, kind):
    field = f"{kind}_allocation_ratio"
    value = float(_number(value, index, name, field))
    if value <= 0:
        raise SchedulerInputError(f"hosts[{index}] ({name}): {field} must be greater than 0, got {value}")
    return value


class Defaults:
    """Config values every host without its own falls back to (Nova's None -> initial_* rule)."""

    def __init__(self, config):
        def ratio(kind):
            value = config.get(f"{kind}_allocation_ratio")
            if value is None or value == "":
                value = config[f"initial_{kind}_allocation_ratio"]
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise SchedulerInputError(f"config.{kind}_allocation_ratio: must be a number, got {value!r}") from None
            if value <= 0:
                raise SchedulerInputError(f"config.{kind}_allocation_ratio: must be greater than 0")
            return value

        self.cpu_ratio = ratio("cpu")
        self.ram_ratio = ratio("ram")
        self.disk_ratio = ratio("disk")
        try:
            self.reserved_memory_mb = float(config["reserved_host_memory_mb"])
            self.reserved_disk_gb = math.ceil(float(config["reserved_host_disk_mb"]) / 1024)
            self.reserved_vcpus = float(config["reserved_host_cpus"])
        except (TypeError, ValueError):
            raise SchedulerInputError(
                "config: reserved_host_memory_mb, reserved_host_disk_mb and reserved_host_cpus must be numbers"
            ) from None
        for attr in ("reserved_memory_mb", "reserved_vcpus"):
            value = getattr(self, attr)
            if value == int(value):
                setattr(self, attr, int(value))


_EMPTY = {}
_EMPTY_LIST = ()


class HostState:
    """One host as the filters and weighers see it (mutable within one request)."""

    __slots__ = (
        "_aggregate_metadata",
        "_instances",
        "aggregates",
        "capabilities",
        "cpu_allocation_ratio",
        "cpu_info",
        "disk_allocation_ratio",
        "disk_gb_capacity",
        "disk_gb_total",
        "disk_gb_used",
        "enabled",
        "failed_builds",
        "hypervisor_type",
        "hypervisor_version",
        "memory_mb_capacity",
        "memory_mb_total",
        "memory_mb_used",
        "name",
        "num_instances",
        "num_io_ops",
        "ram_allocation_ratio",
        "raw",
        "reserved_disk_gb",
        "reserved_host_memory_mb",
        "reserved_vcpus",
        "supported_instances",
        "up",
        "vcpus_capacity",
        "vcpus_total",
        "vcpus_used",
    )

    def __init__(self, raw, defaults, index=0):
        # Hot path (10,000 hosts per call): plain ints/floats skip validation.
        if raw.__class__ is not dict and not isinstance(raw, collections.abc.Mapping):
            raise SchedulerInputError(f"hosts[{index}]: each host must be a dict of hypervisor fields, got {raw!r}")
        get = raw.get
        name = get("name")
        if not name or not isinstance(name, str):
            raise SchedulerInputError(f"hosts[{index}]: 'name' is required (the host's name, a string)")
        self.raw = raw
        self.name = name
        enabled = get("enabled")
        self.enabled = enabled if enabled is True else _flag(raw, "enabled", "status", "enabled", index)
        up = get("up")
        self.up = up if up is True else _flag(raw, "up", "state", "up", index)
        vcpus = get("vcpus", 0)
        if vcpus.__class__ not in _PLAIN_NUMBERS:
            vcpus = _number(vcpus, index, name, "vcpus")
        self.vcpus_total = vcpus
        vcpus_used = get("vcpus_used", 0)
        if vcpus_used.__class__ not in _PLAIN_NUMBERS:
            vcpus_used = _number(vcpus_used, index, name, "vcpus_used")
        self.vcpus_used = vcpus_used
        memory_mb = get("memory_mb", 0)
        if memory_mb.__class__ not in _PLAIN_NUMBERS:
            memory_mb = _number(memory_mb, index, name, "memory_mb")
        self.memory_mb_total = memory_mb
        memory_mb_used = get("memory_mb_used", 0)
        if memory_mb_used.__class__ not in _PLAIN_NUMBERS:
            memory_mb_used = _number(memory_mb_used, index, name, "memory_mb_used")
        self.memory_mb_used = memory_mb_used
        local_gb = get("local_gb", 0)
        if local_gb.__class__ not in _PLAIN_NUMBERS:
            local_gb = _number(local_gb, index, name, "local_gb")
        self.disk_gb_total = local_gb
        local_gb_used = get("local_gb_used", 0)
        if local_gb_used.__class__ not in _PLAIN_NUMBERS:
            local_gb_used = _number(local_gb_used, index, name, "local_gb_used")
        self.disk_gb_used = local_gb_used
        io_ops = get("num_io_ops", 0)
        if io_ops.__class__ not in _PLAIN_NUMBERS:
            io_ops = _number(io_ops, index, name, "num_io_ops")
        self.num_io_ops = io_ops
        failed = get("failed_builds", 0)
        if failed.__class__ not in _PLAIN_NUMBERS:
            failed = _number(failed, index, name, "failed_builds")
        self.failed_builds = failed
        cpu_ratio = get("cpu_allocation_ratio")
        self.cpu_allocation_ratio = defaults.cpu_ratio if cpu_ratio is None else _ratio(cpu_ratio, index, name, "cpu")
        ram_ratio = get("ram_allocation_ratio")
        self.ram_allocation_ratio = defaults.ram_ratio if ram_ratio is None else _ratio(ram_ratio, index, name, "ram")
        disk_ratio = get("disk_allocation_ratio")
        self.disk_allocation_ratio = (
            defaults.disk_ratio if disk_ratio is None else _ratio(disk_ratio, index, name, "disk"))
        reserved = get("reserved_host_memory_mb")
        self.reserved_host_memory_mb = (
            defaults.reserved_memory_mb if reserved is None
            else _number(reserved, index, name, "reserved_host_memory_mb"))
        reserved = get("reserved_host_disk_mb")
        # Placement's DISK_GB inventory reserves whole gigabytes (rounded up).
        self.reserved_disk_gb = (
            defaults.reserved_disk_gb if reserved is None
            else math.ceil(_number(reserved, index, name, "reserved_host_disk_mb") / 1024))
        reserved = get("reserved_host_cpus")
        self.reserved_vcpus = (
            defaults.reserved_vcpus if reserved is None else _number(reserved, index, name, "reserved_host_cpus"))
        # What placement lets instances use in total: (total - reserved) * ratio.
        self.memory_mb_capacity = (memory_mb - self.reserved_host_memory_mb) * self.ram_allocation_ratio
        self.vcpus_capacity = (vcpus - self.reserved_vcpus) * self.cpu_allocation_ratio
        self.disk_gb_capacity = (local_gb - self.reserved_disk_gb) * self.disk_allocation_ratio

        capabilities = get("capabilities") or _EMPTY
        if capabilities.__class__ is not dict and not isinstance(capabilities, collections.abc.Mapping):
            raise SchedulerInputError(f"hosts[{index}] ({name}): capabilities must be a dict, got {capabilities!r}")
        self.capabilities = capabilities
        instances = get("instances")
        if instances and (instances.__class__ is not list and (
                isinstance(instances, str) or not isinstance(instances, collections.abc.Iterable))):
            raise SchedulerInputError(f"hosts[{index}] ({name}): instances must be a list of server ids or names")
        # Made a set on first use: most requests (no server group, no hints) never look at it.
        self._instances = None if instances else set()
        running = get("running_vms")
        if running is None:
            running = len(self.instances)
        elif running.__class__ is not int:
            running = _number(running, index, name, "running_vms")
        self.num_instances = running
        self.hypervisor_type = get("hypervisor_type")
        self.hypervisor_version = get("hypervisor_version")
        cpu_info = get("cpu_info")
        self.cpu_info = capabilities.get("cpu_info") if cpu_info is None else cpu_info
        supported = get("supported_instances")
        self.supported_instances = capabilities.get("supported_instances") if supported is None else supported
        self.aggregates = _EMPTY_LIST
        self._aggregate_metadata = None

    @property
    def instances(self):
        """Server ids/names on the host (a set; the request's own instances join it as they are placed)."""
        if self._instances is None:
            self._instances = {item if item.__class__ is str else str(item) for item in self.raw["instances"]}
        return self._instances

    # Values Nova's HostState derives from the compute node record.
    @property
    def free_ram_mb(self):
        return self.memory_mb_total - self.reserved_host_memory_mb - self.memory_mb_used

    @property
    def free_disk_mb(self):
        return (self.disk_gb_total - self.reserved_disk_gb - self.disk_gb_used) * 1024

    def attribute(self, key):
        """Nova HostState attribute ``key`` (for ComputeCapabilitiesFilter), or None."""
        if key in ("host", "nodename", "hypervisor_hostname"):
            return self.name
        if key == "total_usable_ram_mb":
            return self.memory_mb_total
        if key == "total_usable_disk_gb":
            return self.disk_gb_total
        if key == "disk_mb_used":
            return self.disk_gb_used * 1024
        if key == "stats":
            return self.capabilities
        if key == "service":
            return {"disabled": not self.enabled, "up": self.up}
        if key in ("aggregates", "updated", "uuid", "cell_uuid", "host_ip", "numa_topology",
                   "pci_stats", "metrics", "limits"):
            return self.raw.get(key)
        if key == "cpu_info" and isinstance(self.cpu_info, str):
            try:
                return json.loads(self.cpu_info)
            except ValueError:
                return self.cpu_info
        return getattr(self, key, None)

    def aggregate_metadata(self):
        """Nova's aggregate_metadata_get_by_host: key -> set of comma-split values."""
        if self._aggregate_metadata is None:
            metadata = collections.defaultdict(set)
            for aggregate in self.aggregates:
                for key, value in aggregate.metadata.items():
                    metadata[key].update(part.strip() for part in str(value).split(","))
            self._aggregate_metadata = metadata
        return self._aggregate_metadata

    def aggregate_values(self, key):
        """Nova's aggregate_values_from_key: the raw values of ``key`` over the host's aggregates."""
        return {aggregate.metadata[key] for aggregate in self.aggregates if key in aggregate.metadata}

    def availability_zone(self, default_zone):
        """The AZ from the host's aggregates; else the host's own availability_zone field (as the
        catalog reports it when no aggregates are passed); else default_availability_zone."""
        zones = {a.metadata["availability_zone"] for a in self.aggregates if "availability_zone" in a.metadata}
        return zones or {self.raw.get("availability_zone") or default_zone}

    def consume(self, resources, instance_id):
        """HostState.consume_from_request plus the placement claim, for the next instance."""
        self.memory_mb_used += resources.memory_mb
        self.vcpus_used += resources.vcpus
        self.disk_gb_used += resources.disk_gb
        self.num_instances += 1
        self.num_io_ops += 1
        self.instances.add(instance_id)

    def __repr__(self):
        return f"<HostState {self.name}>"


class Aggregate:
    __slots__ = ("availability_zone", "hosts", "metadata", "name")

    def __init__(self, raw, index):
        where = f"aggregates[{index}]"
        if not isinstance(raw, collections.abc.Mapping):
            raise SchedulerInputError(f"{where}: each aggregate must be a dict with name, metadata, hosts")
        self.name = raw.get("name") or f"aggregate-{index}"
        metadata = raw.get("metadata") or raw.get("properties") or {}
        if not isinstance(metadata, collections.abc.Mapping):
            raise SchedulerInputError(f"{where} ({self.name}): metadata must be a dict")
        metadata = {str(k): "" if v is None else str(v) for k, v in metadata.items()}
        zone = raw.get("availability_zone")
        if zone:
            # An aggregate's AZ is its availability_zone metadata in Nova.
            metadata["availability_zone"] = str(zone)
        self.metadata = metadata
        self.availability_zone = metadata.get("availability_zone")
        hosts = raw.get("hosts") or ()
        if isinstance(hosts, str):
            raise SchedulerInputError(f"{where} ({self.name}): hosts must be a list of host names")
        self.hosts = list(hosts)


def build_host_states(hosts, aggregates, config):
    if hosts is None:
        hosts = []
    if isinstance(hosts, collections.abc.Mapping) or isinstance(hosts, str):
        raise SchedulerInputError("hosts: must be a list of host-state dicts")
    defaults = Defaults(config)
    states = [HostState(raw, defaults, index) for index, raw in enumerate(hosts)]
    by_name = {}
    for state in states:
        if state.name in by_name:
            raise SchedulerInputError(f"hosts: host name {state.name!r} appears more than once")
        by_name[state.name] = state
    for index, raw in enumerate(aggregates or ()):
        aggregate = Aggregate(raw, index)
        for host_name in aggregate.hosts:
            state = by_name.get(host_name)
            if state is not None:
                if not state.aggregates:
                    state.aggregates = []
                state.aggregates.append(aggregate)
    return states
