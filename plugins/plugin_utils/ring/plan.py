# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replica plan: how many replicas of each partition every tier should hold.

Same model as Swift's RingBuilder so that balance and dispersion compare:

- *weighted* replicanths: a device's share of the replicas by weight, capped at one
  replica per partition, the excess spread over devices with room;
- *wanted* replicanths: as evenly dispersed over the failure domains as the device counts allow;
- *target*: weighted moved towards wanted by at most ``overload`` (a fraction);
- per tier ``min``/``max`` replicas a partition may have there.

On top of that the plan turns targets into whole part-replica *quotas* per tier (largest
remainder, top-down), so every device knows exactly how many part-replicas it should hold.
"""

from __future__ import annotations

import math
from collections import defaultdict

from .devices import tiers_for_dev
from .errors import RingError

EPS = 1e-10


def tier_tree(devs):
    """tier -> sorted child tiers, over weighted devices only (zero weight devices are draining)."""
    children = defaultdict(set)
    for dev in devs:
        if dev["weight"] > 0:
            tiers = tiers_for_dev(dev)
            children[()].add(tiers[0])
            for parent, child in zip(tiers, tiers[1:]):
                children[parent].add(child)
    return {t: sorted(c, key=_tier_sort_key) for t, c in children.items()}


def _tier_sort_key(tier):
    # ips are strings and regions/zones ints; compare each part as (type, value) so mixed input sorts.
    return tuple((0, x, "") if isinstance(x, int) else (1, 0, str(x)) for x in tier)


def max_replicas_by_tier(tree, replicas, bound=math.ceil):
    """Swift's _build_max_replicas_by_tier: the most replicas a tier may hold of one partition."""
    out = defaultdict(float)

    def walk(tier, count):
        if len(tier) == 4:
            count = min(1, count)
        out[tier] = count
        kids = tree.get(tier, ())
        for kid in kids:
            walk(kid, bound(float(count) / len(kids)))

    walk((), replicas)
    return out


def weighted_replicas_by_tier(devs, replicas):
    weighted = [d for d in devs if d["weight"] > 0]
    total = sum(d["weight"] for d in weighted)
    per_dev = {}
    room = []
    for d in weighted:
        share = d["weight"] * replicas / total
        if share < 1:
            room.append(d["id"])
        else:
            share = 1.0
        per_dev[d["id"]] = share
    while True:
        remaining = replicas - sum(per_dev.values())
        if remaining < EPS:
            break
        room = [i for i in room if per_dev[i] < 1]
        if not room:
            break
        rel = remaining / sum(per_dev[i] for i in room)
        for i in room:
            per_dev[i] = min(1.0, per_dev[i] * (rel + 1))
    by_tier = defaultdict(float)
    for d in weighted:
        tiers = tiers_for_dev(d)
        by_tier[()] += per_dev[d["id"]]
        for t in tiers:
            by_tier[t] += per_dev[d["id"]]
    return by_tier


def wanted_replicas_by_tier(devs, replicas, tree, weighted):
    """Swift's _build_wanted_replicas_by_tier: as unique as possible, respecting device counts."""
    dispersed = {t: (math.floor(r), math.ceil(r)) for t, r in max_replicas_by_tier(tree, replicas, float).items()}
    num_devices = defaultdict(int)
    for d in devs:
        if d["weight"] > 0:
            num_devices[()] += 1
            for t in tiers_for_dev(d):
                num_devices[t] += 1
    wanted = defaultdict(float)

    def place(tier, replicanths):
        if replicanths > num_devices[tier] + EPS:
            raise RingError(f"More replicanths ({replicanths}) than devices ({num_devices[tier]}) in tier {tier}")
        wanted[tier] = replicanths
        subs = tree.get(tier)
        if not subs:
            return
        to_place = defaultdict(float)
        remaining = replicanths
        spread = subs
        device_limited = False
        for _guard in range(10000):
            rel = remaining / sum(weighted[t] for t in spread)
            for t in spread:
                r = to_place[t] + weighted[t] * rel
                lo, hi = dispersed[t]
                if r < lo:
                    r = lo
                elif r > hi and not device_limited:
                    r = hi
                if r > num_devices[t]:
                    r = num_devices[t]
                to_place[t] = r
            remaining = replicanths - sum(to_place.values())
            if remaining < -EPS:
                spread = [t for t in subs if to_place[t] > dispersed[t][0]]
            elif remaining > EPS:
                spread = [t for t in subs if num_devices[t] > to_place[t] < dispersed[t][1]]
                if not spread:
                    device_limited = True
                    spread = [t for t in subs if to_place[t] < num_devices[t]]
            else:
                break
            if not spread:
                break
        for t in subs:
            place(t, to_place[t])

    place((), replicas)
    return wanted


def target_replicas_by_tier(devs, replicas, overload):
    tree = tier_tree(devs)
    weighted = weighted_replicas_by_tier(devs, replicas)
    wanted = wanted_replicas_by_tier(devs, replicas, tree, weighted)
    required = 0.0
    for d in devs:
        if d["weight"] > 0:
            t = tiers_for_dev(d)[-1]
            required = max(required, (wanted[t] - weighted[t]) / weighted[t])
    if required <= 0.0:
        return tree, wanted, required
    used = min(overload, required)
    target = defaultdict(float)
    for t, w in weighted.items():
        target[t] = w + (wanted[t] - w) * used / required
    return tree, target, required


class ReplicaPlan:
    """Targets, per-tier min/max replicas and whole part-replica quotas for one device set."""

    def __init__(self, devs, replicas, overload, row_lengths, current_counts=None):
        self.replicas = replicas
        self.parts = row_lengths[0]
        self.tree, self.target, self.required_overload = target_replicas_by_tier(devs, replicas, overload)
        self.max = defaultdict(int)
        for t, r in self.target.items():
            self.max[t] = math.ceil(r - EPS)
        self.quota = self._quotas(sum(row_lengths), current_counts or {})

    def _quotas(self, total, current):
        parts = self.parts
        quota = {(): total}
        # a tier holding more than one replica of every partition is impossible below the device
        capacity = defaultdict(int)
        for tier in self.tree:
            if len(tier) == 3:
                for dev in self.tree[tier]:
                    capacity[dev] = parts
        for depth in (3, 2, 1, 0):
            for tier, kids in self.tree.items():
                if len(tier) == depth:
                    capacity[tier] = sum(capacity[k] for k in kids)

        def held(tier):
            return current.get(tier, 0)

        stack = [()]
        while stack:
            tier = stack.pop()
            kids = self.tree.get(tier)
            if not kids:
                continue
            want = quota[tier]
            exact = {k: self.target[k] * parts for k in kids}
            share = {k: min(capacity[k], max(0, math.floor(exact[k] + 1e-9))) for k in kids}
            left = want - sum(share.values())
            # Largest remainder; ties go to the tier already holding more, so a rebalance moves less.
            order = sorted(kids, key=lambda k: (-(exact[k] - math.floor(exact[k] + 1e-9)), -held(k),
                                                _tier_sort_key(k)))
            while left > 0:
                progressed = False
                for k in order:
                    if left == 0:
                        break
                    if share[k] < capacity[k]:
                        share[k] += 1
                        left -= 1
                        progressed = True
                if not progressed:
                    raise RingError("The devices cannot hold every replica: check weights and replicas")
            while left < 0:
                for k in reversed(order):
                    if left == 0:
                        break
                    if share[k] > 0:
                        share[k] -= 1
                        left += 1
            quota.update(share)
            stack.extend(kids)
        return quota
