# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time ministack.cloud's select_hosts on the shared scenarios; print JSON (timings in ms, chosen hosts)."""

from __future__ import annotations

import copy
import gc
import json
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "collections"))

from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import select_hosts  # noqa: E402
from scenarios import WEIGHERS, scenarios  # noqa: E402


def main():
    out = {}
    for name, scenario in scenarios().items():
        kwargs = copy.deepcopy(scenario["kwargs"])
        config = {"weight_classes": WEIGHERS, **kwargs.pop("config", {})}
        times, cpu_times = [], []
        result = None
        for _ in range(scenario["repeat"]):
            hosts = scenario["hosts"]
            gc.collect()
            start, cpu_start = time.perf_counter(), time.process_time()
            result = select_hosts(hosts, config=config, **kwargs)
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)
        out[name] = {"times_ms": times, "cpu_ms": cpu_times, "result": result, "target_ms": scenario["target_ms"],
                     "hosts": len(scenario["hosts"])}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
