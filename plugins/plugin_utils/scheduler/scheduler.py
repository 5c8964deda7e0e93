# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pipeline: placement-like checks, filters, weighers, pick, consume, alternates.

Follows nova.scheduler.manager.SchedulerManager._schedule: each instance of a
request is filtered (from the hosts left by the previous instance), weighed,
picked from the best ``host_subset_size`` hosts, and its resources consumed
before the next instance; each instance gets up to ``max_attempts - 1``
alternates from the hosts that were not selected.
"""

from __future__ import annotations

import collections.abc
import heapq
import random

from .errors import NoValidHost, SchedulerInputError
from .filters import FILTERS
from .host_state import DEFAULT_CONFIG, build_host_states
from .request import RequestSpec, _omitted
from .weighers import WEIGHERS, WeighCache, weigh

# Placement does these before any filter runs, whatever enabled_filters says.
ALWAYS_FILTERS_AZ = "AvailabilityZoneFilter"
CAPACITY_FILTERS = ("RamFilter", "CoreFilter", "DiskFilter")
ALL_WEIGHERS = "all_weighers"
REASONS_SHOWN = 5


def _names(value, field):
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, collections.abc.Iterable):
        raise SchedulerInputError(f"config.{field}: must be a list of names")
    # Accept Nova's dotted class paths too (nova.scheduler.filters.compute_filter.ComputeFilter).
    return [str(name).rsplit(".", 1)[-1] for name in value]


def build_config(config):
    merged = dict(DEFAULT_CONFIG)
    if _omitted(config):
        return merged
    if not isinstance(config, collections.abc.Mapping):
        raise SchedulerInputError("config: must be a dict of Nova option names")
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise SchedulerInputError(
            f"config: unknown option {', '.join(unknown)}; known options: {', '.join(sorted(DEFAULT_CONFIG))}")
    for key, value in config.items():
        if value is not None:
            merged[key] = value
    for key in ("host_subset_size", "max_attempts", "max_io_ops_per_host", "max_instances_per_host"):
        try:
            merged[key] = int(merged[key])
        except (TypeError, ValueError):
            raise SchedulerInputError(f"config.{key}: must be a whole number, got {merged[key]!r}") from None
    if merged["host_subset_size"] < 1:
        raise SchedulerInputError("config.host_subset_size: must be at least 1")
    if merged["max_attempts"] < 1:
        raise SchedulerInputError("config.max_attempts: must be at least 1")
    for key in DEFAULT_CONFIG:
        if key.endswith("_multiplier"):
            try:
                merged[key] = float(merged[key])
            except (TypeError, ValueError):
                raise SchedulerInputError(f"config.{key}: must be a number, got {merged[key]!r}") from None
    merged["enabled_filters"] = _names(merged["enabled_filters"], "enabled_filters")
    merged["weight_classes"] = _names(merged["weight_classes"], "weight_classes")
    return merged


def _make_filters(config, request):
    names = []
    if request.availability_zone is not None:
        names.append(ALWAYS_FILTERS_AZ)
    names.extend(CAPACITY_FILTERS)
    for name in config["enabled_filters"]:
        if name not in names:
            names.append(name)
    missing = [name for name in names if name not in FILTERS]
    if missing:
        raise SchedulerInputError(
            f"config.enabled_filters: unknown filter {', '.join(missing)}; "
            f"available: {', '.join(sorted(FILTERS))}")
    return [FILTERS[name](config) for name in names]


def _make_weighers(config):
    names = []
    for name in config["weight_classes"]:
        for resolved in (WEIGHERS if name == ALL_WEIGHERS else [name]):
            if resolved not in names:
                names.append(resolved)
    missing = [name for name in names if name not in WEIGHERS]
    if missing:
        raise SchedulerInputError(
            f"config.weight_classes: unknown weigher {', '.join(missing)}; "
            f"available: {ALL_WEIGHERS}, {', '.join(sorted(WEIGHERS))}")
    return [WEIGHERS[name](config) for name in names]


class FilterReport:
    """What one filter removed for one instance: count and the first few hosts with reasons."""

    __slots__ = ("examples", "name", "removed", "start")

    def __init__(self, name, start):
        self.name = name
        self.start = start
        self.removed = 0
        self.examples = []

    def text(self):
        if not self.removed:
            return f"{self.name} removed none"
        shown = ", ".join(f"{host} ({reason})" for host, reason in self.examples)
        more = self.removed - len(self.examples)
        if more:
            shown += f" and {more} more"
        if self.removed == 1:
            return f"{self.name} removed {shown}"
        return f"{self.name} removed {self.removed} hosts: {shown}"


def _run_filters(filters, hosts, request, index, reports, changed=None):
    """Run the filters in order; ``changed`` is the only host whose state moved since ``hosts`` last passed."""
    for filter_ in filters:
        if index and filter_.run_filter_once_per_request:
            continue
        report = FilterReport(filter_.name, len(hosts))
        if changed is not None and filter_.host_local:
            # The other hosts passed this filter for the previous instance and have not changed.
            if changed in hosts and not filter_.host_passes(changed, request):
                passed = [host for host in hosts if host is not changed]
            else:
                passed = hosts
        else:
            passed = filter_.filter_all(hosts, request)
        if len(passed) != len(hosts):
            kept = {id(host) for host in passed}
            rejected = [host for host in hosts if id(host) not in kept]
            report.removed = len(rejected)
            report.examples = [(h.name, filter_.reason(h, request)) for h in rejected[:REASONS_SHOWN]]
        reports.append(report)
        hosts = passed
        if not hosts:
            break
    return hosts


def _ranked(hosts, totals, count):
    """The ``count`` best hosts, highest weight first, ties by host name."""
    if count <= 0 or not hosts:
        return []
    if count == 1:
        best = max(totals)
        return [min((h for h, t in zip(hosts, totals) if t == best), key=lambda h: h.name)]
    # Cut at the count-th best weight first, so only a handful of hosts get sorted.
    threshold = heapq.nlargest(count, totals)[-1] if count < len(totals) else min(totals)
    picked = [(-t, h.name, h) for h, t in zip(hosts, totals) if t >= threshold]
    picked.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in picked[:count]]


def _failure(all_hosts, reports, filters_run, num_instances, selected):
    if not all_hosts:
        return NoValidHost("No hosts were given to schedule on.")
    parts = []
    if num_instances > 1:
        parts.append(
            f"There are not enough hosts available: placed {len(selected)} of {num_instances} instances"
            + (f" (on {', '.join(h.name for h in selected)})" if selected else "")
            + f"; for instance {len(selected) + 1}:")
    start = reports[0].start if reports else len(all_hosts)
    parts.append(f"{start} host{'s' if start != 1 else ''} considered;")
    parts.append("; ".join(report.text() for report in reports) + ".")
    ran = {report.name for report in reports}
    skipped = [name for name in filters_run if name not in ran]
    if skipped:
        parts.append(f"Not run (no hosts left): {', '.join(skipped)}.")
    return NoValidHost(" ".join(parts))


def select_hosts(hosts, flavor, image=None, availability_zone=None, scheduler_hints=None, server_group=None,
                 aggregates=None, project_id=None, num_instances=1, config=None):
    """Pick a host (plus alternates) for each of ``num_instances`` instances, as Nova's FilterScheduler.

    Returns ``[{"host": name, "alternates": [name, ...]}, ...]`` (one entry per instance).
    Raises NoValidHost when an instance fits nowhere, SchedulerInputError on bad input.
    """
    config = build_config(config)
    try:
        num_instances = 1 if _omitted(num_instances) else int(num_instances)
    except (TypeError, ValueError):
        raise SchedulerInputError(f"num_instances: must be a whole number, got {num_instances!r}") from None
    if num_instances < 1:
        raise SchedulerInputError("num_instances: must be at least 1")
    request = RequestSpec(flavor, image, availability_zone, scheduler_hints, server_group, project_id)
    all_hosts = build_host_states(hosts, None if _omitted(aggregates) else aggregates, config)
    rng = random.Random(config["random_seed"])

    # Most hosts are in no aggregate; aggregate-driven filters and weighers only look at the others.
    request.hosts_in_aggregates = [h for h in all_hosts if h.aggregates]
    filters = [f for f in _make_filters(config, request) if f.prepare(request, all_hosts)]
    weighers = [w for w in _make_weighers(config) if w.prepare(request, all_hosts)]

    new_ids = [("new-instance", i) for i in range(num_instances)]
    if request.group_policy:
        # The instances of this request are group members already (Nova adds them at the API).
        request.group_members.update(new_ids)
        request.group_hosts.update(h.name for h in all_hosts if not h.instances.isdisjoint(request.group_members))

    subset_size = config["host_subset_size"]
    num_alts = config["max_attempts"] - 1
    selected = []
    candidates = all_hosts
    cache = WeighCache()
    changed = None
    for index, instance_id in enumerate(new_ids):
        request.instance_id = instance_id
        reports = []
        candidates = _run_filters(filters, candidates, request, index, reports, changed)
        if not candidates:
            if index:
                # Explain from every host as they stand now, not only the last instance's survivors.
                reports = []
                _run_filters(filters, all_hosts, request, 0, reports)
            raise _failure(all_hosts, reports, [f.name for f in filters], num_instances, selected)
        totals = weigh(candidates, weighers, request, cache, changed)
        if config["shuffle_best_same_weighed_hosts"]:
            # Nova shuffles the hosts tied at the top weight before taking the subset.
            best = max(totals)
            tied = [h for h, t in zip(candidates, totals) if t == best]
            rng.shuffle(tied)
            rest = [h for h in _ranked(candidates, totals, min(subset_size + len(tied), len(candidates)))
                    if h not in tied]
            top = (tied + rest)[:subset_size]
        else:
            top = _ranked(candidates, totals, min(subset_size, len(candidates)))
        chosen = top[0] if len(top) == 1 else rng.choice(top)
        chosen.consume(request.resources, instance_id)
        changed = chosen
        if request.group_policy:
            request.group_hosts.add(chosen.name)
        selected.append(chosen)
        if index == 0 and num_instances == 1 and num_alts:
            ranked = _ranked(candidates, totals, min(num_alts + 1, len(candidates)))

    alternates = []
    if num_alts:
        if num_instances > 1:
            # Re-filter and re-weigh with everything consumed, as Nova does for multi-instance requests
            # (still as the last instance, so its own host stays in the weighing as in Nova).
            leftover = _run_filters(filters, candidates, request, num_instances, [], changed)
            totals = weigh(leftover, weighers, request, cache, changed)
            ranked = _ranked(leftover, totals, min(num_alts + len(selected), len(leftover)))
        chosen_names = {h.name for h in selected}
        alternates = [h.name for h in ranked if h.name not in chosen_names][:num_alts]
    return [{"host": host.name, "alternates": list(alternates)} for host in selected]
