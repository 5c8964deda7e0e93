# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nova-compute's heartbeat, taken by the controller: no agent runs on a compute host, so the
controller reaches each host's libvirtd itself and records the contact (``last_seen``), from
which a service is "up" or "down" (Nova's service_down_time). A build does it before the
scheduler reads the hosts (ComputeFilter), and ``compute_service_info`` before it lists them."""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import select
except ImportError:
    pass

from ..catalog import touch_service
from ..probes import answers_within, not_reached_within
from .hosts import hypervisor_for

STALE_AFTER = 20.0  # seconds: a host reached more recently than this is not probed again
PROBE_TIMEOUT = 5.0  # seconds for all probes together (they run in parallel)


def heartbeat(catalog, stale_after: float = STALE_AFTER, timeout: float = PROBE_TIMEOUT) -> list:
    """Reach every enabled compute host not heard from in ``stale_after`` seconds, in parallel
    and ``timeout`` seconds at most, and record the contact of those that answered. Returns the
    hosts that answered."""
    with catalog.read() as tx:
        stale = not_reached_within(tx.all(select(tx.t.compute_services)), tx.now(), stale_after)
    answered = answers_within({svc["host"]: (lambda svc=svc: hypervisor_for(svc).ping()) for svc in stale},
                              timeout)
    if answered:
        with catalog.begin() as tx:
            for host in answered:
                touch_service(tx, host)
    return sorted(answered)
