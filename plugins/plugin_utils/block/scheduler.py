# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The volume scheduler: Cinder's filter scheduler reduced to what a volume service reports.

Filters: the service is enabled and up (AvailabilityZone + Capacity + Capabilities filters
as in Cinder's default ``scheduler_default_filters``). Weigher: CapacityWeigher (most free
space first; for thin backends the virtual free space under the over-subscription ratio).
"""

from __future__ import annotations

from .errors import NoValidBackend


def _virtual_free(service):
    total = float(service.get("total_capacity_gb") or 0)
    free = float(service.get("free_capacity_gb") or 0)
    reserved = total * float(service.get("reserved_percentage") or 0) / 100
    if service.get("thin_provisioning"):
        ratio = float(service.get("max_over_subscription_ratio") or 20.0)
        provisioned = float(service.get("provisioned_capacity_gb") or 0)
        return min(total * ratio - provisioned - reserved, (free - reserved) * ratio)
    return free - reserved


def fits(service, size_gib):
    """Cinder's CapacityFilter for one backend."""
    total = float(service.get("total_capacity_gb") or 0)
    free = float(service.get("free_capacity_gb") or 0)
    reserved = total * float(service.get("reserved_percentage") or 0) / 100
    if free - reserved <= 0 and size_gib > 0:
        return False
    if service.get("thin_provisioning"):
        ratio = float(service.get("max_over_subscription_ratio") or 20.0)
        provisioned = float(service.get("provisioned_capacity_gb") or 0)
        return total > 0 and (provisioned + size_gib) / total <= ratio
    return free - reserved >= size_gib


def schedule(services, size_gib, availability_zone=None, backend_name=None, exclude_hosts=()):
    """Pick the volume service for a new volume; raise NoValidBackend with the reason."""
    candidates = [s for s in services if s.get("binary", "cinder-volume") == "cinder-volume"]
    if not candidates:
        raise NoValidBackend("No volume service is registered: run the block_host role on a block host.")
    usable = [s for s in candidates if s.get("status", "enabled") == "enabled" and s.get("state", "up") == "up"]
    if not usable:
        raise NoValidBackend("Every volume service is disabled or down.")
    if availability_zone:
        usable = [s for s in usable if (s.get("zone") or "nova") == availability_zone]
        if not usable:
            raise NoValidBackend(f"No volume service in availability zone '{availability_zone}'.")
    if backend_name:
        usable = [s for s in usable if s.get("volume_backend_name") == backend_name]
        if not usable:
            raise NoValidBackend(f"No volume service with volume_backend_name '{backend_name}'.")
    usable = [s for s in usable if s.get("host") not in exclude_hosts]
    fitting = [s for s in usable if fits(s, size_gib)]
    if not fitting:
        best = max(usable, key=_virtual_free) if usable else None
        avail = round(max(_virtual_free(best), 0), 2) if best else 0
        raise NoValidBackend(
            f"Insufficient free space for volume creation (requested / avail): {size_gib}/{avail}"
        )
    # Ties go to the host name order, so that scheduling is deterministic.
    return sorted(fitting, key=lambda s: (-_virtual_free(s), s.get("host", "")))[0]
