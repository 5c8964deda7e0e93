# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cinder-volume's heartbeat, taken by the controller: no agent runs on a block host, so
before ``volume_service_info`` lists the services the controller measures each enabled
backend not reached lately (the capacity a volume create would measure) and records the
contact (``last_seen``), from which a service is "up" or "down" (service_down_time)."""

from __future__ import annotations

from ..probes import answers_within, not_reached_within
from . import service

STALE_AFTER = 20.0  # seconds: a host reached more recently than this is not measured again
PROBE_TIMEOUT = 15.0  # seconds for all hosts together (in parallel; the SSH runner's ConnectTimeout is 10 s)


def heartbeat(catalog, stale_after: float = STALE_AFTER, timeout: float = PROBE_TIMEOUT) -> list:
    """Measure every enabled volume service not heard from in ``stale_after`` seconds, in
    parallel and ``timeout`` seconds at most, and record the capacity and contact of those
    that answered. Returns the services that answered."""
    with catalog.read() as tx:
        stale = not_reached_within(service.services(tx), tx.now(), stale_after)
    measured = answers_within({row["host"]: (lambda row=row: service.host_backend(row).capacity()) for row in stale},
                              timeout)
    if measured:
        with catalog.begin() as tx:
            for host, capacity in measured.items():
                service.record_capacity(tx, host, capacity)
    return sorted(measured)
