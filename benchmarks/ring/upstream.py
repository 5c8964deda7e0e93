# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upstream side of the ring benchmark: runs in .cache/venv-swift with swift's own RingBuilder.

Reads {"part_power", "replicas", "min_part_hours", "overload", "seed", "steps": [...]} on stdin;
each step is {"name", "devices": [...]} (the whole device list, with ids) and the builder
adds, removes or reweights devices to match, then rebalances, timed. Prints one JSON list.
"""

import json
import sys
import time


def main():
    req = json.load(sys.stdin)
    from swift.common.ring import RingBuilder

    rb = None
    out = []
    for step in req["steps"]:
        wanted = {d["id"]: d for d in step["devices"]}
        start = time.perf_counter()
        if rb is None:
            rb = RingBuilder(req["part_power"], req["replicas"], req["min_part_hours"])
            rb.set_overload(req.get("overload", 0.0))
        else:
            rb.pretend_min_part_hours_passed()  # as `swift-ring-builder X pretend_min_part_hours_passed`
        have = {d["id"]: d for d in rb.devs if d is not None}
        for dev_id in sorted(set(have) - set(wanted)):
            rb.remove_dev(dev_id)
        for dev_id in sorted(set(wanted) - set(have)):
            rb.add_dev(dict(wanted[dev_id]))
        for dev_id in sorted(set(wanted) & set(have)):
            if float(have[dev_id]["weight"]) != float(wanted[dev_id]["weight"]):
                rb.set_dev_weight(dev_id, float(wanted[dev_id]["weight"]))
        moved, balance, _removed = rb.rebalance(seed=req.get("seed"))
        elapsed = time.perf_counter() - start
        out.append({"name": step["name"], "seconds": elapsed, "moved": moved, "balance": balance,
                    "dispersion": rb.dispersion})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
