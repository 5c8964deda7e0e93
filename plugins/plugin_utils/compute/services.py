# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute services with their hosts reached: discovery (reach a KVM host through libvirt and
read its capacity, as nova-compute reports it) and the heartbeat before a listing. Both run
before the catalog transaction (no lock held); the catalog's resources then record or read."""

from __future__ import annotations

from ..catalog.errors import CatalogError
from ..catalog.hosts import service_down_time
from ..catalog.resources.compute_services import ComputeService, ComputeServiceInfo, HypervisorInfo
from . import ComputeError
from .driver import LibvirtHost, host_uri
from .heartbeat import heartbeat


def discover(host: str, params: dict) -> dict:
    """Reach the host through libvirt now: its capacity, as nova-compute reports it."""
    uri = params.get("libvirt_uri") or host_uri({"host_ip": params.get("host_ip") or host, "libvirt_uri": None})
    try:
        found = LibvirtHost(uri).capacity()
    except ComputeError as err:
        raise CatalogError(f"discover: {err}") from None
    found["libvirt_uri"] = uri
    return found


class DiscoveringComputeService(ComputeService):
    """``compute_service`` with ``discover: true`` reaching the host before transaction 1."""

    def measure(self, _catalog) -> None:
        if self.params.get("discover") and (self.params.get("state") or "present") != "absent":
            self.found = discover(self.params["host"], self.params)


class _HeartbeatFirst:
    """A listing of compute hosts with the heartbeat first (``probe``, default true): every
    enabled host not reached in the last 20 s is probed (in parallel, 5 s at most), so an idle
    cloud lists its answering hosts ``up``, as nova-compute's own heartbeats keep them. Check
    mode reaches no host: it lists what was recorded before."""

    def measure(self, catalog) -> None:
        service_down_time(self.params.get("service_down_time"))  # bad input fails before anything is recorded
        if self.params.get("probe", True) and not self.check_mode:
            heartbeat(catalog)


class ProbingComputeServiceInfo(_HeartbeatFirst, ComputeServiceInfo):
    """``compute_service_info`` (``openstack compute service list``) with the heartbeat first."""


class ProbingHypervisorInfo(_HeartbeatFirst, HypervisorInfo):
    """``hypervisor_info`` (``openstack hypervisor list``) with the heartbeat first, so its
    ``state`` agrees with the service listing's."""
