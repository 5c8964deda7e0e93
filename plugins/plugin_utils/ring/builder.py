# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ring builder: place part-replicas on devices, and move as few as possible later.

New ring ("wrap-around" layout)
    Every device gets a whole-number quota of part-replicas from the replica plan. Lay the
    devices out in tier order (region, zone, server, device) along one line of
    ``replicas * parts`` slots, each tier a contiguous run as long as its quota, and read the
    line row by row: slot ``r * parts + i`` is replica ``r`` of the partition at position ``i``.
    A run no longer than ``parts`` covers each position at most once, and one of length L
    covers it floor(L/parts) or ceil(L/parts) times, so every tier holds exactly the plan's
    min..max replicas of every partition: dispersion is as good as the plan allows and every
    device holds exactly its quota (balance is rounding only). Inside a run that fits in one
    row the devices are shuffled (so a disk's partitions have replicas all over the cluster,
    which spreads the work of rebuilding a failed disk), and positions map to partitions
    through a random permutation (so neighbouring partitions, which Swift's handoff search
    walks, do not share devices).

Rebalance (incremental)
    1. Slots on devices that are gone and slots of new replica rows are placed at once
       (min_part_hours does not hold back data that has no home).
    2. Partitions whose replicas break the plan's per-tier maximum move one replica.
    3. Devices over quota shed exactly their excess, each part-replica straight to a device
       under quota whose tiers may take it; a partition moves at most one replica per
       rebalance and only once min_part_hours have passed since it last moved.
    Moves go to the most wanted tier first (the most part-replicas missing), as Swift does.
"""

from __future__ import annotations

import math
import random
import sys
import time
from array import array
from collections import Counter, defaultdict

from . import codec, metrics
from .devices import RING_KEYS, assign_ids, tiers_for_dev
from .errors import RingError
from .plan import ReplicaPlan

FORMAT = "ministack.cloud.ring-builder/1"
NONE_DEV = 0xFFFF
MAX_PART_POWER = 24  # 16M partitions; Swift allows 32 but that does not fit in a controller's memory
MAX_HOURS = 0xFF


def row_lengths(parts, replicas):
    whole = int(replicas)
    lengths = [parts] * whole
    frac = replicas - whole
    if frac > 1e-12:
        lengths.append(int(parts * frac))
    return [n for n in lengths if n] or [parts]


def _check_params(part_power, replicas, min_part_hours, overload):
    if isinstance(part_power, bool) or not isinstance(part_power, int) or not 0 <= part_power <= MAX_PART_POWER:
        raise RingError(f"part_power must be an integer from 0 to {MAX_PART_POWER}, got {part_power!r} "
                        "(about 100 partitions per disk at the largest planned size, rounded up to a power of 2)")
    if isinstance(replicas, bool) or not isinstance(replicas, (int, float)) or not replicas >= 1:
        raise RingError(f"replicas must be a number >= 1, got {replicas!r}")
    if isinstance(min_part_hours, bool) or not isinstance(min_part_hours, int) or not 0 <= min_part_hours <= 255:
        raise RingError(f"min_part_hours must be an integer from 0 to 255, got {min_part_hours!r}")
    if isinstance(overload, bool) or not isinstance(overload, (int, float)) or not overload >= 0:
        raise RingError(f"overload must be a fraction >= 0 (0.1 is 10%), got {overload!r}")


def _as_int(name, value):
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _as_float(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def load_state(state):
    """Check a builder state (as returned by :func:`rebalance`) and decode its arrays."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise RingError(f"previous ring is not a ring builder state (expected format {FORMAT!r}); "
                        "pass the value returned by ring_rebalance, or none for a new ring")
    try:
        parts = 2 ** state["part_power"]
        rows = [codec.decode_u16(text) for text in state["replica2part2dev"]]
        hours = codec.decode_u8(state["last_part_moves"], parts)
        devs = [None if d is None else dict(d) for d in state["devs"]]
    except (KeyError, TypeError) as exc:
        raise RingError(f"previous ring state is incomplete: {exc}") from None
    if not rows or len(rows[0]) != parts:
        raise RingError("previous ring state: replica rows do not match part_power")
    return {"state": state, "rows": rows, "hours": hours, "devs": devs}


def pretend_min_part_hours_passed(state):
    """A copy of ``state`` in which every partition may move again (swift-ring-builder's command)."""
    out = dict(state)
    out["last_part_moves"] = codec.encode_u8(bytes([MAX_HOURS]) * 2 ** state["part_power"])
    out["last_part_moves_epoch"] = 0
    return out


class _Work:
    """Mutable working set of one rebalance."""

    def __init__(self, rows, devs, plan, hours, min_part_hours, rng):
        self.rows = rows
        self.parts = len(rows[0])
        self.devs = devs
        self.plan = plan
        self.hours = hours
        self.mph = min_part_hours
        self.rng = rng
        self.moved = bytearray(self.parts)
        self.tiers = {d["id"]: tiers_for_dev(d) for d in devs if d}
        self.weighted = {d["id"] for d in devs if d and d["weight"] > 0}
        self.count = Counter()
        for row in rows:
            self.count.update(row)
        self.count.pop(NONE_DEV, None)
        self.quota = {i: plan.quota.get(self.tiers[i][-1], 0) for i in self.tiers}
        self.avail = defaultdict(int)  # part-replicas still wanted under each tier
        self.slack = defaultdict(int)  # quota minus holding under each tier (may be negative)
        for i in self.weighted:
            deficit = self.quota[i] - self.count.get(i, 0)
            for t in ((), *self.tiers[i]):
                self.avail[t] += max(0, deficit)
                self.slack[t] += deficit
        self.moves = 0
        self._wanted_zones = None

    # -- bookkeeping -------------------------------------------------------------------------
    def _add(self, dev_id, delta):
        before = self.quota[dev_id] - self.count[dev_id]
        self.count[dev_id] += delta
        if dev_id in self.weighted:
            after = before - delta
            change = max(0, after) - max(0, before)
            for t in self.tiers[dev_id]:
                self.avail[t] += change
                self.slack[t] -= delta
            self.avail[()] += change
            self.slack[()] -= delta

    def assign(self, part, replica, dev_id):
        old = self.rows[replica][part]
        if old != NONE_DEV and old in self.tiers:
            self._add(old, -1)
        self.rows[replica][part] = dev_id
        self._add(dev_id, +1)
        self.moved[part] = 1
        self.hours[part] = 0
        self.moves += 1

    def can_move(self, part):
        return not self.moved[part] and self.hours[part] >= self.mph

    # -- choosing a home ---------------------------------------------------------------------
    def _others(self, part, replica):
        out = []
        for r, row in enumerate(self.rows):
            if r != replica and part < len(row):
                d = row[part]
                if d != NONE_DEV:
                    out.append(d)
        return out

    def home(self, part, replica, wanted_only, relax=False):
        """The device to take replica ``replica`` of ``part``, or None.

        Walks down the tiers, at each level the children that may still take a replica of
        this partition (under the plan's max), most wanted first; with ``wanted_only`` only
        tiers that still want part-replicas.
        """
        tiers = self.tiers
        others = []
        for r, row in enumerate(self.rows):
            if r != replica and part < len(row):
                d = row[part]
                if d != NONE_DEV:
                    others.append(d)
        pmax = self.plan.max
        if wanted_only:
            # Fast refusal, the common case when few zones want parts: every zone that still
            # wants part-replicas already holds its most replicas of this partition.
            zones = [tiers[d][1] for d in others]
            if all(zones.count(z) >= pmax[z] for z in self.wanted_zones()):
                return None
        held = {}
        for d in others:
            for t in tiers[d]:
                held[t] = held.get(t, 0) + 1
        found = self._down((), held, wanted_only)
        if found is None and relax:
            found = self._relaxed_home(others, Counter(held))
        return found

    def _down(self, tier, held, wanted_only):
        if len(tier) == 4:
            return tier[3]
        pmax, avail, slack = self.plan.max, self.avail, self.slack
        if wanted_only:
            kids = [k for k in self.plan.tree[tier] if avail[k] > 0 and held.get(k, 0) < pmax[k]]
        else:
            kids = [k for k in self.plan.tree[tier] if held.get(k, 0) < pmax[k]]
        while kids:
            best = max(kids, key=lambda k: (avail[k], slack[k])) if len(kids) > 1 else kids[0]
            found = self._down(best, held, wanted_only)
            if found is not None:
                return found
            kids.remove(best)
        return None

    def wanted_zones(self):
        """(region, zone) tiers still wanting part-replicas; cached until one of them fills."""
        if self._wanted_zones is None or any(self.avail[z] <= 0 for z in self._wanted_zones):
            self._wanted_zones = [t for t in self.plan.tree if len(t) == 2 and self.avail[t] > 0]
        return self._wanted_zones

    def _relaxed_home(self, others, held):
        # The plan cannot be met (a failure domain is gone or full): stay as spread as possible.
        tree, pmax, avail, slack = self.plan.tree, self.plan.max, self.avail, self.slack
        tier = ()
        while len(tier) < 4:
            kids = [k for k in tree.get(tier, ()) if len(k) < 4 or k[3] not in others]
            if not kids:
                return None
            tier = min(kids, key=lambda k: (held[k] - pmax[k], -avail[k], -slack[k]))
        return tier[3]

    # -- phases ------------------------------------------------------------------------------
    def place_unassigned(self, slots):
        self.rng.shuffle(slots)
        for part, replica in slots:
            dev_id = self.home(part, replica, wanted_only=False, relax=True)
            if dev_id is None:
                raise RingError(f"No device can take partition {part} replica {replica}: "
                                "add devices or lower replicas")
            self.rows[replica][part] = NONE_DEV
            self.assign(part, replica, dev_id)

    def fix_dispersion(self):
        """Move one replica of each partition that holds more replicas in a tier than the plan allows."""
        risky = metrics.tier_excess(self.rows, self.devs, self.plan.max)
        skipped = 0
        for part in sorted(risky):
            if not self.can_move(part):
                skipped += 1
                continue
            held = Counter()
            devs_here = []
            for r, row in enumerate(self.rows):
                if part < len(row):
                    devs_here.append((row[part], r))
                    held.update(self.tiers[row[part]])
            bad = [(self.quota[d] - self.count[d], d, r) for d, r in devs_here
                   if any(held[t] > self.plan.max[t] for t in self.tiers[d])]
            for _slack, d, r in sorted(bad):
                target = self.home(part, r, wanted_only=False)
                if target is not None and target != d:
                    self.assign(part, r, target)
                    break
            else:
                skipped += 1
        return skipped

    def shed_excess(self):
        """Move part-replicas from devices over quota to devices under quota, one per partition."""
        over = sorted((self.quota[d] - self.count[d], d) for d in self.tiers if self.count[d] > self.quota[d])
        # Search snapshots of the rows with bytes.find (memchr speed). A device over quota never
        # gains a slot here, so a hit is only stale if that slot already moved: checked below.
        snapshots = [row.tobytes() for row in self.rows]
        for _excess, dev_id in over:
            need = self.count[dev_id] - self.quota[dev_id]
            pattern = dev_id.to_bytes(2, sys.byteorder)
            order = list(range(len(self.rows)))
            self.rng.shuffle(order)
            for replica in order:
                if need <= 0 or self.avail[()] <= 0:
                    break
                row, data = self.rows[replica], snapshots[replica]
                start = self.rng.randrange(len(row))
                for lo, hi in ((2 * start, len(data)), (0, 2 * start)):
                    pos = lo
                    while need > 0:
                        pos = data.find(pattern, pos, hi)
                        if pos < 0:
                            break
                        if pos & 1:  # straddles two ids
                            pos += 1
                            continue
                        part = pos >> 1
                        pos += 2
                        if row[part] != dev_id or not self.can_move(part):
                            continue
                        target = self.home(part, replica, wanted_only=True)
                        if target is not None:
                            self.assign(part, replica, target)
                            need -= 1
                            if self.avail[()] <= 0:
                                break
                    if need <= 0 or self.avail[()] <= 0:
                        break
        return sum(max(0, self.count[d] - self.quota[d]) for d in self.tiers)

    def _fits(self, part, replica, dev_id):
        """Whether ``dev_id`` may take replica ``replica`` of ``part`` under the plan's max."""
        held = {}
        for r, row in enumerate(self.rows):
            if r != replica and part < len(row):
                d = row[part]
                if d == dev_id:
                    return False
                for t in self.tiers[d]:
                    held[t] = held.get(t, 0) + 1
        pmax = self.plan.max
        return all(held.get(t, 0) < pmax[t] for t in self.tiers[dev_id])

    def _slots(self, dev_id):
        """(part, replica) slots of a device, from a random point of each row."""
        pattern = dev_id.to_bytes(2, sys.byteorder)
        order = list(range(len(self.rows)))
        self.rng.shuffle(order)
        for replica in order:
            data = self.rows[replica].tobytes()
            start = 2 * self.rng.randrange(len(self.rows[replica]))
            for lo, hi in ((start, len(data)), (0, start)):
                pos = lo
                while True:
                    pos = data.find(pattern, pos, hi)
                    if pos < 0:
                        break
                    if pos & 1:
                        pos += 1
                        continue
                    yield pos >> 1, replica
                    pos += 2

    def shed_by_chains(self, budget=200000):
        """Excess that no direct move can place: move a partition from a device at quota to the
        device under quota, then one from the device over quota into the room that made.

        Happens when every partition of the over device already has a replica in the only
        failure domain that wants more (a zone whose quota is exactly one replica of every
        partition, for example). Each partition still moves at most once.
        """
        checks = 0
        over = [d for d in sorted(self.tiers) if self.count[d] > self.quota[d]]
        for src in over:
            while self.count[src] > self.quota[src] and checks < budget:
                under = [d for d in sorted(self.weighted) if self.count[d] < self.quota[d]]
                if not under:
                    return
                moved = False
                middles = [d for d in sorted(self.weighted) if d != src and d not in under]
                self.rng.shuffle(middles)
                for dst in under:
                    for mid in middles:
                        for part, r in self._slots(mid):
                            checks += 1
                            if checks >= budget:
                                return
                            if not self.can_move(part) or not self._fits(part, r, dst):
                                continue
                            for q, rq in self._slots(src):
                                checks += 1
                                if q != part and self.can_move(q) and self._fits(q, rq, mid):
                                    self.assign(part, r, dst)
                                    self.assign(q, rq, mid)
                                    moved = True
                                    break
                                if checks >= budget:
                                    return
                            break  # one candidate per middle device keeps the search cheap
                        if moved:
                            break
                    if moved:
                        break
                if not moved:
                    break


POOL = 61  # random orders kept per round membership; a prime, so rounds rarely repeat in step


def _run(devices, rng):
    """The ids of one run (a tier holding at most one replica of any partition), in random order.

    ``devices`` is [(dev_id, quota)]. Shuffling millions of ids one by one costs seconds, so
    the run is built in rounds: round k holds every device whose quota exceeds k, once, in
    one of a few random orders of that membership. Any order is valid inside such a run; the
    random rounds make a disk's partitions have their other replicas on disks all over the
    cluster, not on a few fixed partners.
    """
    devices = sorted(devices, key=lambda dq: -dq[1])
    ids = [dev_id for dev_id, _quota in devices]
    out = array("H")
    done = 0
    m = len(devices)
    while m:
        quota = devices[m - 1][1]
        rounds = quota - done
        if rounds > 0:
            members = ids[:m]
            pool = []
            for _order in range(min(POOL, rounds)):
                order = list(members)
                rng.shuffle(order)
                pool.append(array("H", order))
            pick = rng.randrange
            size = len(pool)
            for _round in range(rounds):
                out.extend(pool[pick(size)])
            done = quota
        m -= 1
    return out


def _scatter(n, rng):
    """A permutation of range(n): p -> (c*p + e) mod n, c coprime with n, near n/golden ratio.

    Maps layout positions to partitions so that neighbouring partitions (which Swift's
    handoff search walks) sit far apart in the layout, on different devices and zones.
    """
    if n <= 2:
        return list(range(n))
    spread = max(1, n // 64)
    c = int(n * 0.6180339887498949) + rng.randrange(-spread, spread + 1)
    c = min(max(c, 1), n - 1)
    while math.gcd(c, n) != 1:
        c += 1
    e = rng.randrange(n)
    return [(c * p + e) % n for p in range(n)]


def _wrap_around_layout(plan, lengths, rng):
    """Initial placement (see the module docstring)."""
    parts = lengths[0]
    seq = array("H")
    tree, quota = plan.tree, plan.quota

    def emit(tier):
        q = quota.get(tier, 0)
        if not q:
            return
        if q <= parts or len(tier) == 4:
            devices = []
            stack = [tier]
            while stack:
                t = stack.pop()
                if len(t) == 4:
                    if quota.get(t, 0):
                        devices.append((t[3], quota[t]))
                else:
                    stack.extend(reversed(tree.get(t, ())))
            seq.extend(_run(devices, rng))
        else:
            for kid in tree.get(tier, ()):
                emit(kid)

    emit(())
    if len(seq) != sum(lengths):
        raise RingError(f"internal error: laid out {len(seq)} part-replicas, expected {sum(lengths)}")
    short = lengths[-1]
    position = _scatter(short, rng)
    if short < parts:
        position += [short + p for p in _scatter(parts - short, rng)]
    rows = []
    offset = 0
    for n in lengths:
        segment = seq[offset:offset + n]
        rows.append(array("H", map(segment.__getitem__, position[:n] if n < parts else position)))
        offset += n
    return rows


def rebalance(previous, devices, part_power=10, replicas=3, min_part_hours=1, overload=0.0, seed=None, now=None):
    """Build a new ring (``previous`` None) or rebalance ``previous`` for ``devices``.

    Returns the builder state: plain JSON-serialisable data with ``balance``, ``dispersion``
    and ``moved`` (part-replicas whose device changed) at the top level.
    """
    part_power = _as_int("part_power", part_power)
    min_part_hours = _as_int("min_part_hours", min_part_hours)
    replicas = _as_float(replicas)
    overload = _as_float(overload)
    _check_params(part_power, replicas, min_part_hours, overload)
    replicas = float(replicas)
    overload = float(overload)
    now = int(time.time() if now is None else now)
    prev = load_state(previous) if previous else None
    if prev and prev["state"]["part_power"] != part_power:
        raise RingError(f"part_power cannot change on an existing ring (it is {prev['state']['part_power']}, "
                        f"asked for {part_power}); build a new ring to change it")
    new_devs = assign_ids(devices, prev["devs"] if prev else [])
    weighted = sum(1 for d in new_devs if d["weight"] > 0)
    if weighted < replicas:
        raise RingError(f"replicas: Replica count of {replicas:g} requires more than {weighted} devices: "
                        f"devices needs at least {int(-(-replicas // 1))} with weight > 0")
    size = max(d["id"] for d in new_devs) + 1
    devs = [None] * size
    for d in new_devs:
        devs[d["id"]] = d
    version = (prev["state"].get("version", 0) + 1) if prev else 1
    rng = random.Random(version if seed is None else seed)
    parts = 2 ** part_power
    lengths = row_lengths(parts, replicas)

    if prev is None:
        plan = ReplicaPlan(new_devs, replicas, overload, lengths)
        rows = _wrap_around_layout(plan, lengths, rng)
        hours = bytearray(parts)
        epoch = now
        moved = sum(lengths)
        pending = False
        old_rows = None
    else:
        rows = prev["rows"]
        old_rows = [array("H", r) for r in rows]
        hours = prev["hours"]
        epoch = int(prev["state"].get("last_part_moves_epoch", 0))
        elapsed = (now - epoch) // 3600
        if elapsed > 0:
            table = bytes(min(MAX_HOURS, i + elapsed) for i in range(256))
            hours = bytearray(hours.translate(table))
            epoch = now
        # Resize replica rows for a new replica count; new slots are unassigned.
        rows = rows[:len(lengths)]
        for r, n in enumerate(lengths):
            if r >= len(rows):
                rows.append(array("H", [NONE_DEV]) * n)
            elif len(rows[r]) > n:
                del rows[r][n:]
            elif len(rows[r]) < n:
                rows[r].extend(array("H", [NONE_DEV]) * (n - len(rows[r])))
        unassigned = set()
        gone = {d["id"] for d in prev["devs"] if d} - {d["id"] for d in new_devs}
        for r, row in enumerate(rows):
            for dev_id in gone:
                pos = 0
                try:
                    while True:
                        pos = row.index(dev_id, pos)
                        row[pos] = NONE_DEV
                        unassigned.add((pos, r))
                        pos += 1
                except ValueError:
                    pass
            pos = 0
            try:
                while True:
                    pos = row.index(NONE_DEV, pos)
                    unassigned.add((pos, r))
                    pos += 1
            except ValueError:
                pass
        unassigned = sorted(unassigned)
        held = Counter()
        for row in rows:
            held.update(row)
        held.pop(NONE_DEV, None)
        tier_held = Counter()
        for d in new_devs:
            for t in tiers_for_dev(d):
                tier_held[t] += held.get(d["id"], 0)
        plan = ReplicaPlan(new_devs, replicas, overload, lengths, tier_held)
        work = _Work(rows, devs, plan, hours, min_part_hours, rng)
        work.place_unassigned(unassigned)
        skipped = work.fix_dispersion()
        left = work.shed_excess()
        if left:
            work.shed_by_chains()
            left = sum(max(0, work.count[d] - work.quota[d]) for d in work.tiers)
        pending = bool(skipped or left)

    counts = metrics.parts_per_device(rows)
    if old_rows is not None:
        moved = 0
        for r, row in enumerate(rows):
            if r < len(old_rows):
                old = old_rows[r]
                n = min(len(old), len(row))
                if old[:n] != row[:n]:
                    moved += sum(1 for a, b in zip(old[:n], row[:n]) if a != b)
                moved += len(row) - n
            else:
                moved += len(row)
    per_dev = metrics.balance_per_device(devs, counts, parts, replicas)
    quota_of = {}
    for d in new_devs:
        quota_of[d["id"]] = plan.quota.get(tiers_for_dev(d)[-1], 0) if d["weight"] > 0 else 0
    state_devs = []
    for d in devs:
        if d is None:
            state_devs.append(None)
        else:
            entry = dict(d)
            entry["parts"] = counts.get(d["id"], 0)
            entry["parts_wanted"] = quota_of[d["id"]] - entry["parts"]
            entry["balance"] = round(per_dev[d["id"]], 6)
            state_devs.append(entry)
    return {
        "format": FORMAT,
        "part_power": part_power,
        "replicas": replicas,
        "min_part_hours": min_part_hours,
        "overload": overload,
        "version": version,
        "balance": max((abs(b) for b in per_dev.values()), default=0.0),
        "dispersion": metrics.dispersion(rows, devs, replicas),
        "moved": moved,
        "pending": pending,
        "devs": state_devs,
        "replica2part2dev": [codec.encode_u16(row) for row in rows],
        "row_encoding": codec.ROW_ENCODING,
        "last_part_moves": codec.encode_u8(hours),
        "last_part_moves_epoch": epoch,
    }


def ring_devs(state):
    """The ring file's device list: ring keys only, ``None`` for holes."""
    return [None if d is None else {k: d[k] for k in RING_KEYS} for d in state["devs"]]


def decoded_rows(state):
    return [codec.decode_u16(text) for text in state["replica2part2dev"]]
