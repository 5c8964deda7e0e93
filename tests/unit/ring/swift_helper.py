"""Runs inside .cache/venv-swift (upstream Swift), never in the main venv.

Reads one JSON request on stdin and prints one JSON answer:
- {"op": "nodes", "ring": path, "prefix", "suffix", "paths": [[a, c, o]...], "handoffs": n}
  -> {"results": [[part, [primary ids], [handoff ids]], ...]} from swift.common.ring.Ring
- {"op": "save", "devs", "rows", "part_shift", "version", "out"} -> RingData(...).save(out)
- {"op": "metrics", "ring": path, "replicas"} -> Swift's balance and dispersion of that assignment
- {"op": "ec_policy", "dir", "index", "ec_type", "ndata", "nparity"} -> Swift's ECStoragePolicy loads
  <dir>/object-<index>.ring.gz (it refuses a ring whose replica count is not ndata + nparity) and
  pyeclib encodes and decodes a body from any ndata fragments
- {"op": "build", "devs", "part_power", "replicas", "seed"} -> upstream RingBuilder's balance and
  dispersion for the same devices
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
    elif op == "ec_policy":
        from swift.common.storage_policy import ECStoragePolicy

        policy = ECStoragePolicy(req["index"], f"ec{req['index']}", ec_type=req["ec_type"],
                                 ec_ndata=req["ndata"], ec_nparity=req["nparity"])
        try:
            policy.load_ring(req["dir"])
        except Exception as exc:  # the answer is the refusal
            print(json.dumps({"loaded": False, "error": str(exc)}))
            return
        body = bytes(range(256)) * 4099
        frags = policy.pyeclib_driver.encode(body)
        back = policy.pyeclib_driver.decode(frags[-req["ndata"]:])
        print(json.dumps({"loaded": True, "replica_count": policy.object_ring.replica_count,
                          "fragments": len(frags), "decoded": back == body}))
    elif op == "build":
        rb = RingBuilder(req["part_power"], req["replicas"], 1)
        for d in req["devs"]:
            rb.add_dev(dict(d, replication_ip=d["ip"], replication_port=d["port"], meta=""))
        rb.rebalance(seed=req.get("seed", 1))
        print(json.dumps({"balance": rb.get_balance(), "dispersion": rb.dispersion}))
    else:
        sys.exit(f"unknown op {op}")


if __name__ == "__main__":
    main()
