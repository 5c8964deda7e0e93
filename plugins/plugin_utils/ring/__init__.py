# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Swift ring builder of our own (plain Python, no Ansible imports).

``rebalance`` builds or rebalances a ring and returns its builder state as plain data;
``write_ring`` writes Swift's ``.ring.gz`` (format 1); ``RingView``/``view_of`` answer
partition and node lookups exactly as Swift's Ring class does. See docs/ring.md.
"""

from __future__ import annotations

from .builder import FORMAT, decoded_rows, load_state, pretend_min_part_hours_passed, rebalance, ring_devs
from .devices import assign_ids, normalize_device, tiers_for_dev
from .errors import RingError
from .lookup import RingView, hash_path, partition_for, view_of
from .metrics import balance, dispersion
from .ringfile import read_ring_gz, write_ring_gz


def write_ring(state, path):
    """Write the ``.ring.gz`` for a builder state (as Swift's RingData.save, format version 1)."""
    return write_ring_gz(path, ring_devs(state), 32 - state["part_power"], decoded_rows(state), state.get("version"))


__all__ = [
    "FORMAT",
    "RingError",
    "RingView",
    "assign_ids",
    "balance",
    "decoded_rows",
    "dispersion",
    "hash_path",
    "load_state",
    "normalize_device",
    "partition_for",
    "pretend_min_part_hours_passed",
    "read_ring_gz",
    "rebalance",
    "ring_devs",
    "tiers_for_dev",
    "view_of",
    "write_ring",
    "write_ring_gz",
]
