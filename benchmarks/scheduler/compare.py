# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the JSON of bench_ministack.py and bench_nova.py; print a markdown table."""

from __future__ import annotations

import json
import statistics
import sys


def summary(times):
    return f"{min(times):.1f} / {statistics.median(times):.1f}"


def agreement(ours, nova, prefix):
    if nova is None:
        return "not run"
    theirs = nova["result"]
    mine = ours["result"]
    if isinstance(theirs, str):
        return f"Nova: {theirs}"
    if prefix:
        # Nova ran only the first instances of the request: compare those picks (alternates are
        # computed after the whole request, so they are not comparable).
        n = len(theirs)
        same = sum(a["host"] == b["host"] for a, b in zip(mine[:n], theirs))
        return f"hosts {same}/{n} same (first {n} instances)"
    hosts = sum(a["host"] == b["host"] for a, b in zip(mine, theirs))
    alts = sum(a["alternates"] == b["alternates"] for a, b in zip(mine, theirs))
    return f"hosts {hosts}/{len(mine)}, alternates {alts}/{len(mine)} same"


def main(ours_path, nova_path=None):
    ours = json.load(open(ours_path))
    nova = json.load(open(nova_path)) if nova_path else {}
    print("Times in ms, min / median over the runs: wall clock, and CPU time of the process (steadier when "
          "the machine is shared).")
    print()
    print("| scenario | hosts | ministack wall | ministack CPU | target (on CPU min) | Nova wall | Nova CPU | "
          "Nova / ministack (CPU) | same picks as Nova |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, mine in ours.items():
        theirs = nova.get(name)
        target = mine.get("target_ms")
        verdict = f"< {target}: {'yes' if min(mine['cpu_ms']) < target else 'NO'}" if target else ""
        nova_wall = nova_cpu = ratio = "-"
        prefix = False
        if theirs:
            scale = theirs.get("scale", 1)
            prefix = scale != 1
            note = f" ({len(theirs['result'])} instances, x{scale:g} = {min(theirs['cpu_ms']) * scale / 1000:.0f} s)" \
                if prefix else ""
            nova_wall = summary(theirs["times_ms"])
            nova_cpu = summary(theirs["cpu_ms"]) + note
            ratio = f"{min(theirs['cpu_ms']) * scale / min(mine['cpu_ms']):.0f}x"
        print(f"| {name} | {mine['hosts']} | {summary(mine['times_ms'])} | {summary(mine['cpu_ms'])} | {verdict} | "
              f"{nova_wall} | {nova_cpu} | {ratio} | {agreement(mine, theirs, prefix)} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
