# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host filters with Nova's rules, and the registry they plug into by name.

A filter is a class with ``host_passes(host, request) -> bool`` and
``reason(host, request) -> str`` (why a host failed, for the NoValidHost message).
``prepare(request, hosts)`` returns False when the filter cannot reject anything
for this request (Nova would run it and pass every host), so it is skipped.
Register new ones with ``@register_filter``; ``enabled_filters`` names them.
"""

from __future__ import annotations

import json
import re

from . import extra_specs_ops
from .host_state import NOVA_HOST_STATE_ATTRIBUTES

FILTERS = {}


def register_filter(cls):
    """Class decorator: make ``cls`` available to ``enabled_filters`` under ``cls.name``."""
    name = cls.__dict__.get("name") or cls.__name__
    cls.name = name
    FILTERS[name] = cls
    return cls


def _fmt(number):
    number = float(number)
    return str(int(number)) if number == int(number) else f"{number:.1f}"


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def aggregate_number(host, key, default, cast=int):
    """nova.scheduler.filters.utils.validate_num_values over aggregate metadata: the minimum wins."""
    values = host.aggregate_values(key)
    if not values:
        return default
    try:
        return min(cast(value) for value in values)
    except ValueError:
        return default


class BaseFilter:
    name = None
    # Host state the filter looks at does not change between the instances of one request.
    run_filter_once_per_request = False
    # True when the verdict depends only on the host's own state and the request (not on other
    # hosts or on hosts picked earlier in the request): later instances of a request then re-check
    # only the host just consumed. Off by default: safe for any plugin.
    host_local = False

    def __init__(self, config):
        self.config = config

    def prepare(self, request, hosts):
        return True

    def host_passes(self, host, request):
        raise NotImplementedError

    def reason(self, host, request):
        return "rejected"

    def filter_all(self, hosts, request):
        passes = self.host_passes
        return [host for host in hosts if passes(host, request)]


@register_filter
class AllHostsFilter(BaseFilter):
    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        return False

    def host_passes(self, host, request):
        return True


@register_filter
class ComputeFilter(BaseFilter):
    """The compute service must be enabled and up."""

    run_filter_once_per_request = True

    def filter_all(self, hosts, request):
        return [host for host in hosts if host.enabled and host.up]

    def host_passes(self, host, request):
        return host.enabled and host.up

    def reason(self, host, request):
        return "compute service is disabled" if not host.enabled else "compute service is down"


@register_filter
class AvailabilityZoneFilter(BaseFilter):
    """The host's AZ (aggregate metadata, else default_availability_zone) must be the one asked for."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        self.default_zone = self.config["default_availability_zone"]
        return request.availability_zone is not None

    def host_passes(self, host, request):
        if not host.aggregates:
            return request.availability_zone == (host.raw.get("availability_zone") or self.default_zone)
        return request.availability_zone in host.availability_zone(self.default_zone)

    def reason(self, host, request):
        zones = ", ".join(sorted(host.availability_zone(self.default_zone)))
        return f"in availability zone {zones}, not {request.availability_zone}"


class _CapacityFilter(BaseFilter):
    """Placement's rule: requested <= max_unit (the total) and used + requested <= (total - reserved) * ratio."""

    host_local = True

    unit = ""

    def values(self, host, request):
        """(requested, total, used, capacity) for this resource."""
        raise NotImplementedError

    def host_passes(self, host, request):
        wanted, total, used, capacity = self.values(host, request)
        return not wanted or (wanted <= total and used + wanted <= capacity)

    def reason(self, host, request):
        wanted, total, used, capacity = self.values(host, request)
        if wanted > total:
            return f"needs {_fmt(wanted)} {self.unit}, host has {_fmt(total)} {self.unit} in all"
        return f"needs {_fmt(wanted)} {self.unit}, {_fmt(max(capacity - used, 0))} {self.unit} free"


# filter_all is spelled out per resource: it runs over every host for every instance.
@register_filter
class RamFilter(_CapacityFilter):
    unit = "MB"

    def values(self, host, request):
        return request.resources.memory_mb, host.memory_mb_total, host.memory_mb_used, host.memory_mb_capacity

    def filter_all(self, hosts, request):
        want = request.resources.memory_mb
        return [h for h in hosts if want <= h.memory_mb_total and h.memory_mb_used + want <= h.memory_mb_capacity]


@register_filter
class CoreFilter(_CapacityFilter):
    unit = "vCPUs"

    def values(self, host, request):
        return request.resources.vcpus, host.vcpus_total, host.vcpus_used, host.vcpus_capacity

    def filter_all(self, hosts, request):
        want = request.resources.vcpus
        return [h for h in hosts if want <= h.vcpus_total and h.vcpus_used + want <= h.vcpus_capacity]


@register_filter
class DiskFilter(_CapacityFilter):
    unit = "GB"

    def values(self, host, request):
        return request.resources.disk_gb, host.disk_gb_total, host.disk_gb_used, host.disk_gb_capacity

    def filter_all(self, hosts, request):
        want = request.resources.disk_gb
        if not want:
            return list(hosts)
        return [h for h in hosts if want <= h.disk_gb_total and h.disk_gb_used + want <= h.disk_gb_capacity]


@register_filter
class AggregateInstanceExtraSpecsFilter(BaseFilter):
    """Flavor extra specs (unscoped or ``aggregate_instance_extra_specs:``) against aggregate metadata."""

    run_filter_once_per_request = True
    scope = "aggregate_instance_extra_specs"

    def prepare(self, request, hosts):
        self.specs = []
        for key, requirement in request.extra_specs.items():
            parts = key.split(":", 1)
            if len(parts) > 1:
                if parts[0] != self.scope:
                    continue
                key = parts[1]
            self.specs.append((key, requirement))
        return bool(self.specs)

    def _failure(self, host):
        metadata = host.aggregate_metadata()
        for key, requirement in self.specs:
            values = metadata.get(key)
            if not values:
                return f"no aggregate of the host sets {key} (flavor asks {requirement!r})"
            if not any(extra_specs_ops.match(value, requirement) for value in values):
                shown = ",".join(sorted(values))
                return f"aggregate metadata {key}={shown} does not satisfy {requirement!r}"
        return None

    def host_passes(self, host, request):
        return self._failure(host) is None

    def reason(self, host, request):
        return self._failure(host) or "rejected"


@register_filter
class ComputeCapabilitiesFilter(BaseFilter):
    """Flavor extra specs (``capabilities:`` scoped, or unscoped naming a HostState attribute)."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        specs = dict(request.extra_specs)
        bits = specs.pop("hw:maxphysaddr_bits", None)
        if bits is not None:
            specs["capabilities:cpu_info:maxphysaddr:bits"] = ">= " + bits
        self.specs = []
        for key, requirement in specs.items():
            scope = key.split(":")
            if len(scope) > 1:
                if scope[0] != "capabilities":
                    continue
                scope = scope[1:]
            self.specs.append((key, scope, requirement))
        return bool(self.specs)

    @staticmethod
    def _lookup(host, scope):
        cap = host
        for name in scope:
            if isinstance(cap, str):
                try:
                    cap = json.loads(cap)
                except ValueError:
                    return None
            if cap is host:
                value = host.attribute(name) if name in NOVA_HOST_STATE_ATTRIBUTES else None
                cap = value if value is not None else host.capabilities.get(name)
            elif isinstance(cap, dict):
                cap = cap.get(name)
            else:
                return None
            if cap is None:
                return None
        return cap

    def _failure(self, host):
        for key, scope, requirement in self.specs:
            if len(scope) == 1 and key == scope[0]:
                # Unscoped: only considered when the host has such an attribute or capability.
                if key not in NOVA_HOST_STATE_ATTRIBUTES and key not in host.capabilities:
                    continue
            cap = self._lookup(host, scope)
            if cap is None:
                return f"has no capability {':'.join(scope)} (flavor asks {key}={requirement!r})"
            if not extra_specs_ops.match(str(cap), requirement):
                return f"capability {':'.join(scope)}={cap} does not satisfy {requirement!r}"
        return None

    def host_passes(self, host, request):
        return self._failure(host) is None

    def reason(self, host, request):
        return self._failure(host) or "rejected"


def canonical_arch(name):
    if not name:
        return None
    name = str(name).lower()
    if name in ("i386", "i486", "i586", "x86_32", "x86_32p"):
        return "i686"
    if name in ("amd64", "x64"):
        return "x86_64"
    return name


def canonical_hv_type(name):
    if not name:
        return None
    name = str(name).lower()
    return "xen" if name == "xapi" else name


def canonical_vm_mode(name):
    if not name:
        return None
    name = str(name).lower()
    return {"pv": "xen", "hv": "hvm", "baremetal": "hvm"}.get(name, name)


def _version_tuple(text):
    return tuple(int(part) for part in re.findall(r"\d+", str(text)))


def _version_from_int(number):
    # nova's convert_version_to_str: 6002000 -> 6.2.0
    number = int(number)
    return (number // 1000000, number // 1000 % 1000, number % 1000)


_PREDICATE = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*([0-9][0-9.]*)\s*")


def version_satisfies(version, predicate):
    """distutils VersionPredicate-style check: ">=6.0, <7.0"."""
    checks = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
              ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
    for clause in str(predicate).split(","):
        found = _PREDICATE.fullmatch(clause)
        if not found:
            return False
        wanted = _version_tuple(found.group(2))
        have = version[: max(len(wanted), 1)]
        have = have + (0,) * (len(wanted) - len(have))
        if not checks[found.group(1)](have, wanted):
            return False
    return True


@register_filter
class ImagePropertiesFilter(BaseFilter):
    """Image hw_architecture / img_hv_type / hw_vm_mode / img_hv_requested_version vs supported_instances."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        props = request.image_properties
        arch = props.get("hw_architecture") or self.config.get("image_properties_default_architecture")
        self.wanted = (canonical_arch(arch), canonical_hv_type(props.get("img_hv_type")),
                       canonical_vm_mode(props.get("hw_vm_mode")))
        self.version_required = props.get("img_hv_requested_version")
        # An image that names no hypervisor is a disk image, QEMU's by default: it never lands on
        # a container host (LXC), which cannot boot one. Nova would let it pass anywhere; here the
        # default is explicit (image_properties_default_hypervisor_type; "" restores Nova's).
        default = canonical_hv_type(self.config.get("image_properties_default_hypervisor_type"))
        self.default_hv = default if default and not self.wanted[1] and not self.wanted[2] else None
        containers = self.default_hv and any(self.container_host(h) for h in hosts)
        return any(self.wanted) or bool(containers)

    @classmethod
    def container_host(cls, host):
        """A host whose hypervisor runs containers only (vm_mode exe, as Nova reports LXC)."""
        entries = cls.supported(host)
        return bool(entries) and all(entry[2] == "exe" for entry in entries)

    @staticmethod
    def supported(host):
        supported = host.supported_instances
        if supported is None:
            # Not reported: infer what a libvirt host reports from its arch and hypervisor type.
            cpu_info = host.attribute("cpu_info")
            arch = (cpu_info.get("arch") if isinstance(cpu_info, dict) else None) or host.capabilities.get(
                "cpu_arch") or "x86_64"
            hv_type = canonical_hv_type(host.hypervisor_type) or "qemu"
            if hv_type == "lxc":  # containers: Nova's libvirt driver reports vm_mode exe for LXC
                return [(canonical_arch(arch), "lxc", "exe")]
            hv_types = ("qemu", "kvm") if hv_type in ("qemu", "kvm") else (hv_type,)
            return [(canonical_arch(arch), hv, "hvm") for hv in hv_types]
        canonicals = (canonical_arch, canonical_hv_type, canonical_vm_mode)
        return [tuple(canonical(v) for canonical, v in zip(canonicals, entry)) for entry in supported]

    def host_passes(self, host, request):
        if self.default_hv and self.container_host(host):
            return any(entry[1] == self.default_hv for entry in self.supported(host))
        for entry in self.supported(host):
            if all(want is None or want in entry for want in self.wanted):
                if not (self.version_required and host.hypervisor_version):
                    return True
                if version_satisfies(_version_from_int(host.hypervisor_version), self.version_required):
                    return True
        return False

    def reason(self, host, request):
        names = ("arch", "hypervisor_type", "vm_mode")
        if self.default_hv and self.container_host(host):
            offered = "; ".join("/".join(str(v) for v in entry) for entry in self.supported(host))
            return (f"image names no hypervisor_type, so it is a {self.default_hv} disk image; host runs "
                    f"containers only ({offered}): set the image property hypervisor_type for a container image")
        wanted = ", ".join(f"{n}={v}" for n, v in zip(names, self.wanted) if v)
        if self.version_required:
            wanted += f", hypervisor version {self.version_required}"
        offered = "; ".join("/".join(str(v) for v in entry) for entry in self.supported(host)) or "nothing"
        return f"image needs {wanted}; host supports {offered}"


@register_filter
class ServerGroupAntiAffinityFilter(BaseFilter):
    """anti-affinity: fewer than max_server_per_host (default 1) group members already on the host."""

    host_local = True

    def prepare(self, request, hosts):
        return request.group_policy == "anti-affinity"

    def host_passes(self, host, request):
        if request.instance_id in host.instances:
            return True
        return len(host.instances & request.group_members) < request.max_server_per_host

    def reason(self, host, request):
        count = len(host.instances & request.group_members)
        return (f"already has {_plural(count, 'member')} of the anti-affinity group "
                f"(max_server_per_host {request.max_server_per_host})")


@register_filter
class ServerGroupAffinityFilter(BaseFilter):
    """affinity: once the group has hosts, only those hosts."""

    # Not host_local: the group's hosts grow as the request is placed.

    def prepare(self, request, hosts):
        return request.group_policy == "affinity"

    def host_passes(self, host, request):
        return not request.group_hosts or host.name in request.group_hosts

    def reason(self, host, request):
        return f"the affinity group's servers are on {', '.join(sorted(request.group_hosts))}"


@register_filter
class SameHostFilter(BaseFilter):
    """Scheduler hint same_host: the host must run one of those servers."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        return bool(request.same_host)

    def host_passes(self, host, request):
        return not host.instances.isdisjoint(request.same_host)

    def reason(self, host, request):
        return f"runs none of the same_host servers {', '.join(sorted(request.same_host))}"


@register_filter
class DifferentHostFilter(BaseFilter):
    """Scheduler hint different_host: the host must run none of those servers."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        return bool(request.different_host)

    def host_passes(self, host, request):
        return host.instances.isdisjoint(request.different_host)

    def reason(self, host, request):
        found = sorted(host.instances & request.different_host)
        return f"runs different_host server {', '.join(found)}"


@register_filter
class AggregateMultiTenancyIsolation(BaseFilter):
    """Hosts in aggregates with filter_tenant_id* metadata take only those projects."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        return bool(request.hosts_in_aggregates)

    @staticmethod
    def tenants(host):
        allowed = set()
        for key, values in host.aggregate_metadata().items():
            if key.startswith("filter_tenant_id"):
                allowed.update(values)
        return allowed

    def host_passes(self, host, request):
        if not host.aggregates:
            return True
        allowed = self.tenants(host)
        return not allowed or request.project_id in allowed

    def reason(self, host, request):
        return (f"its aggregates take only projects {', '.join(sorted(self.tenants(host)))}, "
                f"not {request.project_id or '(no project given)'}")


@register_filter
class AggregateTypeAffinityFilter(BaseFilter):
    """Aggregate metadata instance_type (comma-separated flavor names) limits the flavors a host takes."""

    run_filter_once_per_request = True

    def prepare(self, request, hosts):
        self.flavor_name = request.flavor.get("name")
        return bool(request.hosts_in_aggregates)

    def host_passes(self, host, request):
        allowed = host.aggregate_metadata().get("instance_type")
        return not allowed or self.flavor_name in allowed

    def reason(self, host, request):
        allowed = ", ".join(sorted(host.aggregate_metadata().get("instance_type", ())))
        return f"its aggregates take only flavors {allowed}, not {self.flavor_name}"


@register_filter
class NumInstancesFilter(BaseFilter):
    """num_instances < max_instances_per_host (50)."""

    host_local = True

    def limit(self, host):
        return self.config["max_instances_per_host"]

    def host_passes(self, host, request):
        return host.num_instances < self.limit(host)

    def reason(self, host, request):
        return f"has {_plural(int(host.num_instances), 'instance')}, max_instances_per_host is {self.limit(host)}"


@register_filter
class AggregateNumInstancesFilter(NumInstancesFilter):
    def limit(self, host):
        return aggregate_number(host, "max_instances_per_host", self.config["max_instances_per_host"])


@register_filter
class IoOpsFilter(BaseFilter):
    """num_io_ops < max_io_ops_per_host (8)."""

    host_local = True

    def limit(self, host):
        return self.config["max_io_ops_per_host"]

    def host_passes(self, host, request):
        return host.num_io_ops < self.limit(host)

    def reason(self, host, request):
        return f"has {_fmt(host.num_io_ops)} I/O-heavy operations, max_io_ops_per_host is {self.limit(host)}"


@register_filter
class AggregateIoOpsFilter(IoOpsFilter):
    def limit(self, host):
        return aggregate_number(host, "max_io_ops_per_host", self.config["max_io_ops_per_host"])
