# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Balance and dispersion with swift-ring-builder's definitions, so the numbers compare.

balance: per device ``100 * parts / (weight * weight_of_one_part) - 100``; a zero weight device
still holding parts counts as MAX_BALANCE; the ring's balance is the largest absolute value.

dispersion: per partition, for each tier depth (region, zone, server, device) the replicas a
tier holds beyond ``_build_max_replicas_by_tier`` (ceil of replicas over sibling tiers, going
down the tree); the partition's risk is the worst depth; ``100 * sum(risk) / (parts * replicas)``.
"""

from __future__ import annotations

import math
from collections import Counter

from .devices import tiers_for_dev
from .plan import max_replicas_by_tier, tier_tree

MAX_BALANCE = 999.99
NONE_DEV = 0xFFFF


def parts_per_device(rows):
    counts = Counter()
    for row in rows:
        counts.update(row)
    counts.pop(NONE_DEV, None)
    return counts


def balance_per_device(devs, counts, parts, replicas):
    live = [d for d in devs if d]
    total = sum(d["weight"] for d in live)
    if not total:
        return {d["id"]: (MAX_BALANCE if counts.get(d["id"]) else 0.0) for d in live}
    weight_of_one_part = parts * replicas / total
    out = {}
    for d in live:
        held = counts.get(d["id"], 0)
        if not d["weight"]:
            out[d["id"]] = MAX_BALANCE if held else 0.0
        else:
            out[d["id"]] = 100.0 * held / (d["weight"] * weight_of_one_part) - 100.0
    return out


def balance(devs, counts, parts, replicas):
    per_dev = balance_per_device(devs, counts, parts, replicas)
    return max((abs(b) for b in per_dev.values()), default=0.0)


def _duplicates(crows, parts, candidates):
    """Partitions whose replicas share a tier code (the only ones that can exceed a max >= 1)."""
    n = len(crows)
    short = len(crows[-1])
    if candidates is not None:
        out = []
        for p in candidates:
            codes = [c[p] for c in crows[:n if p < short else n - 1]]
            if len(set(codes)) < len(codes):
                out.append(p)
        return out
    out = []
    spans = [(crows, 0, short)]
    if short < parts and n > 1:
        spans.append(([c[short:] for c in crows[:-1]], short, parts))
    for cols, start, _end in spans:
        if len(cols) == 2:
            out.extend(p for p, (a, b) in enumerate(zip(*cols), start) if a == b)
        elif len(cols) == 3:
            out.extend(p for p, (a, b, c) in enumerate(zip(*cols), start) if a == b or a == c or b == c)
        elif len(cols) > 3:
            k = len(cols)
            out.extend(p for p, t in enumerate(zip(*cols), start) if len(set(t)) < k)
    return out


def partitions_on(rows, dev_ids):
    """Partitions with a replica on any of ``dev_ids`` (C-speed scans with array.index)."""
    found = set()
    for row in rows:
        for dev_id in dev_ids:
            pos = 0
            try:
                while True:
                    pos = row.index(dev_id, pos)
                    found.add(pos)
                    pos += 1
            except ValueError:
                pass
    return found


def tier_excess(rows, devs, caps_by_tier, depth_filter=None):
    """partition -> largest replica excess over ``caps_by_tier`` at any depth (only non-zero ones)."""
    parts = len(rows[0])
    n_ids = len(devs)
    live = [d for d in devs if d]
    uncapped = [d["id"] for d in live if caps_by_tier.get(tiers_for_dev(d)[-1], 0) <= 0]
    extra = partitions_on(rows, uncapped) if uncapped else set()
    risk = {}
    candidates = None
    replicas_ceil = len(rows)
    for depth in range(4):
        if depth_filter is not None and depth not in depth_filter:
            continue
        index = {}
        code = [0] * n_ids
        caps = []
        for d in live:
            tier = tiers_for_dev(d)[depth]
            if tier not in index:
                index[tier] = len(caps)
                caps.append(caps_by_tier.get(tier, 0))
            code[d["id"]] = index[tier]
        if min(caps, default=replicas_ceil) >= replicas_ceil and not extra:
            continue
        crows = [list(map(code.__getitem__, row)) for row in rows]
        candidates = _duplicates(crows, parts, candidates)
        for p in set(candidates) | extra:
            counts = Counter(c[p] for c in crows if p < len(c))
            excess = sum(max(0, k - caps[i]) for i, k in counts.items())
            if excess > risk.get(p, 0):
                risk[p] = excess
    return risk


def dispersion(rows, devs, replicas):
    """Swift's dispersion percentage of a ring (rows = replica2part2dev)."""
    if not rows or not rows[0]:
        return 0.0
    parts = len(rows[0])
    tree = tier_tree([d for d in devs if d])
    caps = max_replicas_by_tier(tree, replicas, math.ceil)
    risk = tier_excess(rows, devs, caps)
    return 100.0 * sum(risk.values()) / (parts * replicas)
