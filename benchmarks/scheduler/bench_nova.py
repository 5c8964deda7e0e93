# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run upstream Nova's own scheduler code on the shared scenarios; print JSON like bench_ministack.py.

Runs in its own virtualenv (.cache/bench-nova, `pip install nova`), never the project's.
What is Nova's and what is not:
- Nova's: HostState (filled by HostState.update from in-memory ComputeNode objects),
  RequestSpec/Flavor/ImageMeta/InstanceGroup/Aggregate objects, every filter and weigher
  class, HostFilterHandler/HostWeightHandler, and SchedulerManager._get_sorted_hosts,
  _consume_selected_host and _get_alternate_hosts (called on a SchedulerManager made with
  object.__new__, whose host_manager is a HostManager made the same way with only its
  filter/weigher attributes set: no database, no RPC).
- Not Nova's (placement and the service group are not in the nova package): placement's
  allocation candidates and claims are emulated with placement's capacity rule
  (used + requested <= (total - reserved) * ratio, requested <= total), and
  ComputeFilter's servicegroup API is replaced by a stub that reads the host's `up` flag.
- The loop over the instances of a request follows SchedulerManager._schedule: sort,
  claim the first host that fits, consume, then alternates.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import math
import os
import pathlib
import sys
import time
import uuid
import warnings

warnings.filterwarnings("ignore")
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import nova.conf  # noqa: E402
from nova import objects  # noqa: E402
from scenarios import DEFAULT_FILTERS, INITIAL_RATIOS, RESERVED_MEMORY_MB, WEIGHERS, scenarios  # noqa: E402

objects.register_all()
from nova.scheduler import filters as nova_filters  # noqa: E402
from nova.scheduler import host_manager, manager  # noqa: E402
from nova.scheduler import weights as nova_weights  # noqa: E402

CONF = nova.conf.CONF
CONF([], project="nova", default_config_files=[])
logging.disable(logging.CRITICAL)

CELL = str(uuid.UUID(int=1))
FILTER_CLASSES = {cls.__name__: cls for cls in nova_filters.all_filters()}
WEIGHER_CLASSES = {cls.__name__: cls for cls in nova_weights.all_weighers()}


class UpFlagServiceGroup:
    """Stand-in for nova.servicegroup.API: the service is up when the host state says so."""

    def service_is_up(self, service):
        return service["up"]


def supported_specs(host):
    arch = "x86_64"
    return [objects.HVSpec(arch=arch, hv_type=hv, vm_mode="hvm") for hv in ("qemu", "kvm")]


def build_host_states(hosts, aggregates):
    by_host = {h["name"]: [] for h in hosts}
    for index, agg in enumerate(aggregates or ()):
        obj = objects.Aggregate(id=index + 1, name=agg["name"], metadata=dict(agg.get("metadata") or {}),
                                hosts=list(agg["hosts"]))
        if agg.get("availability_zone"):
            obj.metadata["availability_zone"] = agg["availability_zone"]
        for name in agg["hosts"]:
            by_host[name].append(obj)
    states = []
    for i, h in enumerate(hosts):
        stats = {"num_instances": str(h["running_vms"]), "io_workload": str(h["num_io_ops"]),
                 "failed_builds": str(h["failed_builds"])}
        stats.update(h.get("capabilities") or {})
        node = objects.ComputeNode(
            uuid=str(uuid.UUID(int=i + 100)), host=h["name"], hypervisor_hostname=h["name"],
            memory_mb=h["memory_mb"], memory_mb_used=h["memory_mb_used"] + RESERVED_MEMORY_MB,
            free_ram_mb=h["memory_mb"] - RESERVED_MEMORY_MB - h["memory_mb_used"],
            local_gb=h["local_gb"], local_gb_used=h["local_gb_used"], free_disk_gb=h["local_gb"] - h["local_gb_used"],
            disk_available_least=None, vcpus=h["vcpus"], vcpus_used=h["vcpus_used"], numa_topology=None,
            host_ip="192.0.2.1", hypervisor_type=h["hypervisor_type"], hypervisor_version=h["hypervisor_version"],
            cpu_info=h.get("cpu_info", "{}"), supported_hv_specs=supported_specs(h), stats=stats, metrics="[]",
            cpu_allocation_ratio=INITIAL_RATIOS["cpu"], ram_allocation_ratio=INITIAL_RATIOS["ram"],
            disk_allocation_ratio=INITIAL_RATIOS["disk"], updated_at=None, pci_device_pools=None)
        state = host_manager.HostState(h["name"], h["name"], CELL)
        instances = {name: objects.Instance(uuid=name) for name in h["instances"]}
        state.update(compute=node, service={"disabled": not h["enabled"], "up": h["up"], "disabled_reason": None},
                     aggregates=by_host[h["name"]], inst_dict=instances)
        states.append(state)
    return states


class Placement:
    """Placement's capacity rule over the same dicts (allocation candidates and claims)."""

    def __init__(self, hosts, flavor):
        self.hosts = {h["name"]: h for h in hosts}
        self.want = (flavor["ram"], flavor["vcpus"],
                     flavor["disk"] + flavor["ephemeral"] + math.ceil(flavor["swap"] / 1024))
        self.claimed = {name: 0 for name in self.hosts}

    def fits(self, name):
        h, n = self.hosts[name], self.claimed[name] + 1
        ram, vcpus, disk = self.want
        return (ram <= h["memory_mb"] and h["memory_mb_used"] + n * ram
                <= (h["memory_mb"] - RESERVED_MEMORY_MB) * INITIAL_RATIOS["ram"]
                and vcpus <= h["vcpus"] and h["vcpus_used"] + n * vcpus <= h["vcpus"] * INITIAL_RATIOS["cpu"]
                and (not disk or (disk <= h["local_gb"]
                                  and h["local_gb_used"] + n * disk <= h["local_gb"] * INITIAL_RATIOS["disk"])))

    def claim(self, name):
        if self.fits(name):
            self.claimed[name] += 1
            return True
        return False


def make_manager(filter_names):
    hm = object.__new__(host_manager.HostManager)
    hm.filter_handler = nova_filters.HostFilterHandler()
    hm.enabled_filters = []
    for name in filter_names:
        f = FILTER_CLASSES[name]()
        if name == "ComputeFilter":
            f.servicegroup_api = UpFlagServiceGroup()
        hm.enabled_filters.append(f)
    hm.weight_handler = nova_weights.HostWeightHandler()
    hm.weighers = [WEIGHER_CLASSES[name]() for name in WEIGHERS]
    sm = object.__new__(manager.SchedulerManager)
    sm.host_manager = hm
    return sm


def make_spec(kwargs, instance_uuids, states):
    fl = kwargs["flavor"]
    flavor = objects.Flavor(id=1, flavorid="1", name=fl["name"], memory_mb=fl["ram"], vcpus=fl["vcpus"],
                            root_gb=fl["disk"], ephemeral_gb=fl["ephemeral"], swap=fl["swap"],
                            extra_specs=dict(fl["extra_specs"]))
    image = objects.ImageMeta.from_dict(kwargs.get("image") or {})
    group = None
    if kwargs.get("server_group"):
        g = kwargs["server_group"]
        members = list(g["members"]) + list(instance_uuids)  # Nova adds the new instances at the API
        hosts = [s.host for s in states if set(s.instances) & set(members)]
        group = objects.InstanceGroup(uuid=str(uuid.UUID(int=7)), policy=g["policy"], policies=[g["policy"]],
                                      members=members, hosts=hosts,
                                      rules=dict(g.get("rules") or {}))
    return objects.RequestSpec(
        flavor=flavor, image=image, num_instances=len(instance_uuids), project_id=kwargs.get("project_id") or "p",
        instance_group=group, scheduler_hints={}, ignore_hosts=None, force_hosts=None, force_nodes=None,
        requested_destination=None, availability_zone=None, instance_uuid=instance_uuids[0],
        pci_requests=objects.InstancePCIRequests(requests=[]), numa_topology=None, is_bfv=False)


def nova_schedule(sm, spec, states, placement, instance_uuids, num_alts):
    """SchedulerManager._schedule's loop, with placement emulated."""
    hosts = [s for s in states if placement.fits(s.host)]  # allocation candidates
    claimed_hosts = []
    num = 0
    for num, instance_uuid in enumerate(instance_uuids):
        spec.instance_uuid = instance_uuid
        hosts = manager.SchedulerManager._get_sorted_hosts(sm, spec, hosts, num)
        if not hosts:
            break
        claimed = next((h for h in hosts if placement.claim(h.host)), None)
        if claimed is None:
            break
        claimed_hosts.append(claimed)
        manager.SchedulerManager._consume_selected_host(claimed, spec, instance_uuid=instance_uuid)
    if len(claimed_hosts) != len(instance_uuids):
        return "NoValidHost"
    selections = manager.SchedulerManager._get_alternate_hosts(sm, claimed_hosts, spec, hosts, num, num_alts)
    return [{"host": s[0].service_host, "alternates": [alt.service_host for alt in s[1:]]} for s in selections]


def configure(config):
    for group in ("filter_scheduler",):
        for key, value in config.items():
            if key in ("enabled_filters",):
                continue
            CONF.set_override(key, value, group=group)


def main():
    only = sys.argv[1:]  # optional scenario names
    out = {}
    CONF.set_override("max_attempts", 3, group="scheduler")
    for name, scenario in scenarios().items():
        if only and name not in only:
            continue
        kwargs = copy.deepcopy(scenario["kwargs"])
        config = kwargs.get("config", {})
        CONF.reset()
        CONF.set_override("max_attempts", 3, group="scheduler")
        CONF.set_override("host_subset_size", 1, group="filter_scheduler")
        configure(config)
        sm = make_manager(config.get("enabled_filters", DEFAULT_FILTERS))
        count = kwargs.get("num_instances", 1)
        # Nova takes about a second per instance over 1,000 hosts here: run the first ones of a big
        # request only and scale the time (each instance costs about the same).
        limit = int(os.environ.get("NOVA_BENCH_MAX_INSTANCES", "50"))
        scale = count / limit if count > limit else 1
        instance_uuids = [str(uuid.UUID(int=10**6 + i)) for i in range(min(count, limit))]
        # Fresh HostStates per run (a run consumes them); building 10,000 takes a while, so fewer runs.
        repeat = max(1, min(scenario["repeat"], int(os.environ.get("NOVA_BENCH_REPEAT", "3"))))
        times, cpu_times, build_times, result = [], [], [], None
        for _ in range(repeat):
            start = time.perf_counter()
            states = build_host_states(scenario["hosts"], kwargs.get("aggregates"))
            spec = make_spec(kwargs, instance_uuids, states)
            build_times.append((time.perf_counter() - start) * 1000)
            placement = Placement(scenario["hosts"], kwargs["flavor"])
            gc.collect()
            start, cpu_start = time.perf_counter(), time.process_time()
            result = nova_schedule(sm, spec, states, placement, instance_uuids, CONF.scheduler.max_attempts - 1)
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)
            print(f"nova: {name}: build {build_times[-1]:.0f} ms, schedule {times[-1]:.1f} ms", file=sys.stderr)
        out[name] = {"times_ms": times, "cpu_ms": cpu_times, "build_ms": build_times, "result": result, "scale": scale}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
