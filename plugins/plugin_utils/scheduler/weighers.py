# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host weighers with Nova's normalisation and multipliers, and their registry.

For each weigher: raw weights (clamped to minval/maxval when the weigher sets
them), normalised to 0..1 over the hosts being weighed (minval/maxval replace the
list's min/max when set; all equal gives 0), multiplied per host by the weigher's
multiplier and added to the host's total.  A multiplier set as metadata on the
host's aggregates (same key as the option) overrides the configured one; when
several aggregates set it the minimum wins.  Register new ones with
``@register_weigher``; ``weight_classes`` names them.
"""

from __future__ import annotations

WEIGHERS = {}


def register_weigher(cls):
    name = cls.__dict__.get("name") or cls.__name__
    cls.name = name
    WEIGHERS[name] = cls
    return cls


def normalize(weights, minval=None, maxval=None):
    """nova.weights.normalize."""
    if not weights:
        return []
    maxval = float(max(weights) if maxval is None else maxval)
    minval = float(min(weights) if minval is None else minval)
    if minval == maxval:
        return [0] * len(weights)
    span = maxval - minval
    return [(w - minval) / span for w in weights]


class BaseWeigher:
    name = None
    minval = None
    maxval = None
    multiplier_option = None
    negate_multiplier = False

    def __init__(self, config):
        self.config = config
        self.default_multiplier = float(config[self.multiplier_option]) if self.multiplier_option else 1.0

    def prepare(self, request, hosts):
        """Work out per-host multipliers; False when the weigher adds 0 to every host."""
        self.overrides = {}
        option = self.multiplier_option
        if option:
            for host in request.hosts_in_aggregates:
                values = host.aggregate_values(option)
                if values:
                    try:
                        self.overrides[host.name] = min(float(v) for v in values)
                    except ValueError:
                        pass  # Nova logs and keeps the configured multiplier.
        return self.default_multiplier != 0 or bool(self.overrides)

    def multiplier(self, host):
        value = self.overrides.get(host.name, self.default_multiplier) if self.overrides else self.default_multiplier
        return -value if self.negate_multiplier else value

    def weigh_object(self, host, request):
        raise NotImplementedError

    def raw_weights(self, hosts, request):
        weigh = self.weigh_object
        return [weigh(host, request) for host in hosts]


@register_weigher
class RAMWeigher(BaseWeigher):
    minval = 0
    multiplier_option = "ram_weight_multiplier"

    def raw_weights(self, hosts, request):
        return [h.memory_mb_total - h.reserved_host_memory_mb - h.memory_mb_used for h in hosts]

    def weigh_object(self, host, request):
        return host.free_ram_mb


@register_weigher
class CPUWeigher(BaseWeigher):
    minval = 0
    multiplier_option = "cpu_weight_multiplier"

    def raw_weights(self, hosts, request):
        return [h.vcpus_total * h.cpu_allocation_ratio - h.vcpus_used for h in hosts]

    def weigh_object(self, host, request):
        return host.vcpus_total * host.cpu_allocation_ratio - host.vcpus_used


@register_weigher
class DiskWeigher(BaseWeigher):
    minval = 0
    multiplier_option = "disk_weight_multiplier"

    def raw_weights(self, hosts, request):
        return [(h.disk_gb_total - h.reserved_disk_gb - h.disk_gb_used) * 1024 for h in hosts]

    def weigh_object(self, host, request):
        return host.free_disk_mb


@register_weigher
class IoOpsWeigher(BaseWeigher):
    minval = 0
    multiplier_option = "io_ops_weight_multiplier"

    def raw_weights(self, hosts, request):
        return [h.num_io_ops for h in hosts]

    def weigh_object(self, host, request):
        return host.num_io_ops


@register_weigher
class NumInstancesWeigher(BaseWeigher):
    multiplier_option = "num_instances_weight_multiplier"

    def weigh_object(self, host, request):
        return host.num_instances


class _SoftAffinityWeigherBase(BaseWeigher):
    policy = None
    sign = 1

    def prepare(self, request, hosts):
        return request.group_policy == self.policy and super().prepare(request, hosts)

    def weigh_object(self, host, request):
        return self.sign * len(host.instances & request.group_members)


@register_weigher
class ServerGroupSoftAffinityWeigher(_SoftAffinityWeigherBase):
    policy = "soft-affinity"
    multiplier_option = "soft_affinity_weight_multiplier"


@register_weigher
class ServerGroupSoftAntiAffinityWeigher(_SoftAffinityWeigherBase):
    policy = "soft-anti-affinity"
    sign = -1
    multiplier_option = "soft_anti_affinity_weight_multiplier"


@register_weigher
class BuildFailureWeigher(BaseWeigher):
    """Hosts with recent build failures sink: the multiplier is negated."""

    multiplier_option = "build_failure_weight_multiplier"
    negate_multiplier = True

    def prepare(self, request, hosts):
        # No failures anywhere: every raw weight is 0 and so is every score.
        return any(host.failed_builds for host in hosts) and super().prepare(request, hosts)

    def weigh_object(self, host, request):
        return host.failed_builds


class WeighCache:
    """Raw weights of the last weighing, reused while the host list is the same list object."""

    def __init__(self):
        self.hosts = None
        self.raw = {}
        self.position = None


def weigh(hosts, weighers, request, cache=None, changed=None):
    """Total weight per host (same order as ``hosts``), as nova.weights.BaseWeightHandler adds them up.

    With a cache, a multi-instance request recomputes raw weights only for ``changed``, the host
    the previous instance consumed (nothing else moved), when ``hosts`` is the list weighed last time.
    """
    totals = [0.0] * len(hosts)
    if len(hosts) <= 1:
        return totals
    reuse = cache is not None and changed is not None and cache.hosts is hosts
    if cache is not None and not reuse:
        cache.hosts, cache.raw, cache.position = hosts, {}, None
    for weigher in weighers:
        raw = cache.raw.get(weigher) if reuse else None
        if raw is None:
            raw = weigher.raw_weights(hosts, request)
            if cache is not None:
                cache.raw[weigher] = raw
        else:
            if cache.position is None:
                cache.position = {id(host): i for i, host in enumerate(hosts)}
            i = cache.position.get(id(changed))
            if i is not None:
                raw[i] = weigher.raw_weights([changed], request)[0]
        low, high = weigher.minval, weigher.maxval
        if low is not None and min(raw) < low:
            raw = [max(w, low) for w in raw]
        if high is not None and max(raw) > high:
            raw = [min(w, high) for w in raw]
        low = float(min(raw) if low is None else low)
        high = float(max(raw) if high is None else high)
        if low == high:
            continue  # every normalised weight is 0
        span = high - low
        if weigher.overrides:
            multiplier = weigher.multiplier
            totals = [t + multiplier(h) * ((w - low) / span) for t, h, w in zip(totals, hosts, raw)]
        else:
            m = -weigher.default_multiplier if weigher.negate_multiplier else weigher.default_multiplier
            totals = [t + m * ((w - low) / span) for t, w in zip(totals, raw)]
    return totals
