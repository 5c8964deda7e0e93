# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute-service discovery: reach a KVM host through libvirt and read its capacity, as
nova-compute reports it. Runs before the catalog transaction (no lock held), then the
catalog's ComputeService records what it found."""

from __future__ import annotations

from ..catalog.errors import CatalogError
from ..catalog.resources.compute_services import ComputeService
from . import ComputeError
from .driver import LibvirtHost, host_uri


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
