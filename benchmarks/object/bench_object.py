# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PUT and GET throughput through a deployed Swift proxy, per storage policy.

One client, sequential requests over one python-swiftclient connection, as the all-in-one
figures of /work/shared/swift-aio.md were taken: 64 KiB objects (ops/s over --small-count
objects) and 20 MiB objects (MB/s, 10**6 bytes, over --big-count objects). Bodies are random;
every GET is checked against the MD5 of what was PUT. Prints a Markdown table and writes JSON.

    python benchmarks/object/bench_object.py --auth-url http://127.0.0.1:8080/auth/v1.0 \
        --user test:tester --key testing --policies gold,ec42 --json benchmarks/object/results.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
import uuid


def _bench(conn, policy, small_count, big_count):
    container = f"bench-{policy}-{uuid.uuid4().hex[:6]}"
    conn.put_container(container, headers={"X-Storage-Policy": policy})
    small = [os.urandom(64 * 1024) for _ in range(small_count)]
    big = [os.urandom(20 * 1024 * 1024) for _ in range(big_count)]
    out = {"policy": policy}

    started = time.perf_counter()
    for i, body in enumerate(small):
        conn.put_object(container, f"s{i}", body)
    out["small_put_ops"] = small_count / (time.perf_counter() - started)
    started = time.perf_counter()
    for i, body in enumerate(small):
        _, got = conn.get_object(container, f"s{i}")
        assert got == body
    out["small_get_ops"] = small_count / (time.perf_counter() - started)

    put_s = get_s = 0.0
    for i, body in enumerate(big):
        started = time.perf_counter()
        conn.put_object(container, f"b{i}", body)
        put_s += time.perf_counter() - started
        started = time.perf_counter()
        _, got = conn.get_object(container, f"b{i}")
        get_s += time.perf_counter() - started
        assert hashlib.md5(got).digest() == hashlib.md5(body).digest()
    total = big_count * 20 * 1024 * 1024 / 1e6
    out["big_put_mb_s"] = total / put_s
    out["big_get_mb_s"] = total / get_s

    for i in range(small_count):
        conn.delete_object(container, f"s{i}")
    for i in range(big_count):
        conn.delete_object(container, f"b{i}")
    conn.delete_container(container)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth-url", default="http://127.0.0.1:8080/auth/v1.0")
    parser.add_argument("--user", default="test:tester")
    parser.add_argument("--key", default="testing")
    parser.add_argument("--policies", default="gold,ec42", help="comma-separated policy names")
    parser.add_argument("--small-count", type=int, default=100)
    parser.add_argument("--big-count", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    import swiftclient

    conn = swiftclient.Connection(authurl=args.auth_url, user=args.user, key=args.key, retries=0)
    load = os.getloadavg()
    results = [_bench(conn, p, args.small_count, args.big_count) for p in args.policies.split(",")]
    report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "host": platform.node(),
              "loadavg_before": load, "loadavg_after": os.getloadavg(), "small_count": args.small_count,
              "big_count": args.big_count, "results": results}
    print("| policy | 64 KiB PUT ops/s | 64 KiB GET ops/s | 20 MiB PUT MB/s | 20 MiB GET MB/s |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['policy']} | {r['small_put_ops']:.1f} | {r['small_get_ops']:.1f} | "
              f"{r['big_put_mb_s']:.1f} | {r['big_get_mb_s']:.1f} |")
    print(f"load average before {load[0]:.1f}, after {report['loadavg_after'][0]:.1f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fp:
            json.dump(report, fp, indent=1)


if __name__ == "__main__":
    main()
