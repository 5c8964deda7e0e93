"""Runs inside .cache/venv-swift (upstream Swift), never in the main venv.

Reads one JSON request on stdin and prints one JSON answer:
- {"op": "nodes", "ring": path, "prefix", "suffix", "paths": [[a, c, o]...], "handoffs": n}
  -> {"results": [[part, [primary ids], [handoff ids]], ...]} from swift.common.ring.Ring
- {"op": "save", "devs", "rows", "part_shift", "version", "out"} -> RingData(...).save(out)
- {"op": "metrics", "ring": path, "replicas"} -> Swift's balance and dispersion of that assignment
"""

import json
import sys
from array import array


def main():
    req = json.load(sys.stdin)
    from swift.common import utils

    utils.HASH_PATH_PREFIX = req.get("prefix", "").encode("utf-8")
    utils.HASH_PATH_SUFFIX = req.get("suffix", "").encode("utf-8")
    from swift.common.ring import Ring, RingBuilder, RingData

    op = req["op"]
    if op == "nodes":
        ring = Ring(req["ring"])
        out = []
        for a, c, o in req["paths"]:
            part, nodes = ring.get_nodes(a, c, o)
            more = ring.get_more_nodes(part)
            handoffs = [n["id"] for n in (next(more, None) for _handoff in range(req.get("handoffs", 0))) if n]
            out.append([part, [n["id"] for n in nodes], [n["index"] for n in nodes], handoffs])
        print(json.dumps({"results": out, "replica_count": ring.replica_count,
                          "partition_count": ring.partition_count}))
    elif op == "save":
        rows = [array("H", r) for r in req["rows"]]
        RingData(rows, req["devs"], req["part_shift"], version=req.get("version")).save(req["out"])
        print(json.dumps({"saved": req["out"]}))
    elif op == "metrics":
        data = RingData.load(req["ring"])
        rows = data._replica2part2dev_id
        devs = data.devs
        parts = {}
        for row in rows:
            for d in row:
                parts[d] = parts.get(d, 0) + 1
        for d in devs:
            if d is not None:
                d["parts"] = parts.get(d["id"], 0)
        rb = RingBuilder(32 - data._part_shift, req["replicas"], 1)
        rb.devs = devs
        rb._replica2part2dev = rows
        rb._build_dispersion_graph()
        print(json.dumps({"balance": rb.get_balance(), "dispersion": rb.dispersion}))
    else:
        sys.exit(f"unknown op {op}")


if __name__ == "__main__":
    main()
