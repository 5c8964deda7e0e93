# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Partition and node lookup exactly as Swift's ``swift.common.ring.Ring`` computes them."""

from __future__ import annotations

import struct
from collections import OrderedDict
from hashlib import md5
from itertools import chain, count

from . import codec
from .devices import RING_KEYS
from .errors import RingError


def _bytes(value, field):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise RingError(f"{field} must be a string, got {value!r}")


def hash_path(account, container=None, obj=None, hash_path_prefix="", hash_path_suffix="", raw_digest=False):
    """Swift's hash_path: md5(prefix + '/' + '/'.join(parts) + suffix).

    Prefix and suffix are the swift.conf [swift-hash] values; Swift reads the file as latin1
    and encodes back to latin1, i.e. it uses the file's raw bytes, which for a UTF-8 file is
    the UTF-8 encoding used here.
    """
    if obj and not container:
        raise RingError("container is required if object is provided")
    if account is None or account == "":
        raise RingError("account is required")
    paths = [_bytes(account, "account")]
    if container:
        paths.append(_bytes(container, "container"))
    if obj:
        paths.append(_bytes(obj, "object"))
    digest = md5(_bytes(hash_path_prefix or "", "hash_path_prefix") + b"/" + b"/".join(paths)
                 + _bytes(hash_path_suffix or "", "hash_path_suffix"), usedforsecurity=False)
    return digest.digest() if raw_digest else digest.hexdigest()


def partition_for(part_power, account, container=None, obj=None, hash_path_prefix="", hash_path_suffix=""):
    key = hash_path(account, container, obj, hash_path_prefix, hash_path_suffix, raw_digest=True)
    return struct.unpack_from(">I", key)[0] >> (32 - part_power)


class RingView:
    """Read side of a ring: rows and devices, with Swift's bookkeeping for handoffs."""

    def __init__(self, rows, devs, part_power):
        self.rows = rows
        self.devs = [None if d is None else {k: d[k] for k in RING_KEYS if k in d} for d in devs]
        self.part_power = part_power
        self.part_shift = 32 - part_power
        assigned = set()
        for row in rows:
            assigned.update(row)
        regions, zones, ips = set(), set(), set()
        self.num_assigned_devs = 0
        for dev in self.devs:
            if dev is not None and dev["id"] in assigned:
                regions.add(dev["region"])
                zones.add((dev["region"], dev["zone"]))
                ips.add((dev["region"], dev["zone"], dev["ip"]))
                self.num_assigned_devs += 1
        self.num_regions, self.num_zones, self.num_ips = len(regions), len(zones), len(ips)

    @classmethod
    def from_state(cls, state):
        return cls([codec.decode_u16(t) for t in state["replica2part2dev"]], state["devs"], state["part_power"])

    @property
    def parts(self):
        return len(self.rows[0])

    def get_part(self, account, container=None, obj=None, hash_path_prefix="", hash_path_suffix=""):
        return partition_for(self.part_power, account, container, obj, hash_path_prefix, hash_path_suffix)

    def _part_nodes(self, part):
        nodes, seen = [], set()
        for row in self.rows:
            if part < len(row):
                dev_id = row[part]
                if dev_id not in seen:
                    nodes.append(self.devs[dev_id])
                    seen.add(dev_id)
        return nodes

    def get_part_nodes(self, part):
        if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part < self.parts:
            raise RingError(f"partition must be an integer from 0 to {self.parts - 1}, got {part!r}")
        return [dict(node, index=i) for i, node in enumerate(self._part_nodes(part))]

    def get_more_nodes(self, part):
        """Handoffs in Swift's order: devices in a new region, then in a new zone, then on a new
        server, then any unused device. Each pass walks the partitions from a hashed start."""
        primary = self._part_nodes(part)
        parts = self.parts
        part_hash = md5(str(part).encode("ascii"), usedforsecurity=False).digest()
        start = struct.unpack_from(">I", part_hash)[0] >> self.part_shift
        inc = int(parts / 65536) or 1
        rows, devs = self.rows, self.devs
        index = count()
        # Tiers from the widest; the last (the device itself) is the "any unused device" pass.
        tiers = (
            (lambda d: d["region"], self.num_regions),
            (lambda d: (d["region"], d["zone"]), self.num_zones),
            (lambda d: (d["region"], d["zone"], d["ip"]), self.num_ips),
            (lambda d: d["id"], self.num_assigned_devs),
        )
        seen = [{key(d) for d in primary} for key, _total in tiers]
        used = seen[-1]

        for tier, (key, total) in enumerate(tiers):
            if len(seen[tier]) == total:
                continue
            for handoff_part in chain(range(start, parts, inc), range(inc - ((parts - start) % inc), start, inc)):
                for row in rows:
                    if handoff_part >= len(row):
                        continue
                    dev = devs[row[handoff_part]]
                    if dev["id"] in used or key(dev) in seen[tier]:
                        continue
                    yield dict(dev, handoff_index=next(index))
                    # a device placed here also opens its narrower tiers
                    for narrower in range(tier, len(tiers)):
                        seen[narrower].add(tiers[narrower][0](dev))
                    if len(seen[tier]) == total:
                        break
                if len(seen[tier]) == total:
                    break

    def get_nodes(self, account, container=None, obj=None, hash_path_prefix="", hash_path_suffix="", handoffs=0):
        part = self.get_part(account, container, obj, hash_path_prefix, hash_path_suffix)
        nodes = self.get_part_nodes(part)
        if handoffs:
            more = self.get_more_nodes(part)
            for _handoff in range(handoffs):
                node = next(more, None)
                if node is None:
                    break
                nodes.append(node)
        return part, nodes


_CACHE: OrderedDict = OrderedDict()


def view_of(ring):
    """A RingView for a builder state, decoded once per distinct ring (filters are called per item)."""
    from .builder import FORMAT  # local: builder imports this module's siblings

    if not isinstance(ring, dict) or ring.get("format") != FORMAT:
        raise RingError("ring must be a ring as returned by ministack.cloud.ring_rebalance or object_ring")
    key = (ring["part_power"], ring.get("version"), tuple(ring["replica2part2dev"]), repr(ring.get("devs")))
    view = _CACHE.get(key)
    if view is None:
        view = RingView.from_state(ring)
        _CACHE[key] = view
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return view
