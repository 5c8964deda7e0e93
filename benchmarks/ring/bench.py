# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ring benchmark: our builder against upstream swift-ring-builder (RingBuilder), same devices, same run.

Usage: python benchmarks/ring/bench.py [--cases C,D,H] [--skip-upstream H] [--json out.json] [--markdown out.md]
(benchmarks/ring/run.sh sets up the Swift venv and calls this with the main venv's Python.)
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.ministack.cloud.plugins.plugin_utils import ring as R  # noqa: E402

SWIFT_PYTHON = ROOT / ".cache" / "venv-swift" / "bin" / "python"
UPSTREAM = pathlib.Path(__file__).with_name("upstream.py")


def topology(zones=5, servers=4, disks=12, weights=(100.0,), first_id=0, server_base=1):
    devs, i = [], first_id
    for z in range(1, zones + 1):
        for s in range(server_base, server_base + servers):
            for d in range(disks):
                devs.append({"id": i, "region": 1, "zone": z, "ip": f"10.{z}.{s}.1", "port": 6200,
                             "device": f"d{d}", "weight": weights[(s + d) % len(weights)]})
                i += 1
    return devs


def cases():
    base = topology()
    extra_server = [{"id": 240 + d, "region": 1, "zone": 1, "ip": "10.1.9.1", "port": 6200, "device": f"d{d}",
                     "weight": 100.0} for d in range(12)]
    added = base + extra_server
    removed = [d for d in added if d["id"] != 5]
    return {
        "C": {"title": "5 zones x 4 servers x 12 disks", "part_power": 16, "steps": [
            ("C  build, pp16, 240 devices", base),
            ("C2 add a 12-disk server (252 devices)", added),
            ("C3 rebalance again", added),
            ("C4 remove a device (251 devices)", removed),
        ]},
        "D": {"title": "mixed weights 4000/8000", "part_power": 18, "steps": [
            ("D  build, pp18, 240 devices, weights 4000/8000", topology(weights=(4000.0, 8000.0))),
        ]},
        "H": {"title": "5 zones x 4 servers x 12 disks", "part_power": 20, "steps": [
            ("H  build, pp20, 240 devices", base),
        ]},
    }


def run_ours(case, seed):
    out, state = [], None
    for name, devices in case["steps"]:
        start = time.perf_counter()
        if state is not None:
            state = R.pretend_min_part_hours_passed(state)
        state = R.rebalance(state, devices, part_power=case["part_power"], replicas=3, min_part_hours=1,
                            overload=0.0, seed=seed)
        elapsed = time.perf_counter() - start
        out.append({"name": name, "seconds": elapsed, "moved": state["moved"], "balance": state["balance"],
                    "dispersion": state["dispersion"]})
    return out


def run_upstream(case, seed):
    request = {"part_power": case["part_power"], "replicas": 3, "min_part_hours": 1, "overload": 0.0,
               "seed": seed, "steps": [{"name": n, "devices": d} for n, d in case["steps"]]}
    proc = subprocess.run([str(SWIFT_PYTHON), str(UPSTREAM)], input=json.dumps(request), capture_output=True,
                          text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"upstream run failed: {proc.stderr}")
    return json.loads(proc.stdout)


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    swift_version = subprocess.run([str(SWIFT_PYTHON), "-c", "import swift; print(swift.__version__)"],
                                   capture_output=True, text=True, check=False).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release(), "swift": swift_version, "load_before": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def markdown(rows, info):
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, CPython {info['python']}, "
        f"swift {info['swift']}; {info['date']}; load average {info['load_before']:.1f} at start.",
        "",
        "| Case | swift-ring-builder time | ours time | speed-up | balance (swift / ours) "
        "| dispersion (swift / ours) | moved (swift / ours) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, theirs in rows:
        if theirs is None:
            lines.append(f"| {ours['name']} | not run | {ours['seconds']:.2f} s | - | - / {ours['balance']:.2f} "
                         f"| - / {ours['dispersion']:.2f} | - / {ours['moved']} |")
            continue
        ratio = theirs["seconds"] / ours["seconds"] if ours["seconds"] else float("inf")
        lines.append(
            f"| {ours['name']} | {theirs['seconds']:.2f} s | {ours['seconds']:.2f} s | {ratio:.1f}x "
            f"| {theirs['balance']:.2f} / {ours['balance']:.2f} | {theirs['dispersion']:.2f} / {ours['dispersion']:.2f} "
            f"| {theirs['moved']} / {ours['moved']} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", default="C,D,H")
    parser.add_argument("--skip-upstream", default="", help="cases to run only on our side, e.g. H")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    info = machine()
    all_cases = cases()
    rows = []
    for key in args.cases.split(","):
        case = all_cases[key]
        ours = run_ours(case, args.seed)
        theirs = None if key in args.skip_upstream.split(",") else run_upstream(case, args.seed)
        for i, mine in enumerate(ours):
            rows.append((mine, theirs[i] if theirs else None))
            print(json.dumps({"ours": mine, "swift": theirs[i] if theirs else None}), file=sys.stderr)
    text = markdown(rows, info)
    print(text)
    if args.markdown:
        pathlib.Path(args.markdown).write_text(text)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"machine": info, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
