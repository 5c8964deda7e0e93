"""Run ministack.cloud tasks in several fresh processes at the same moment (issue 13, item 10).

Each process (multiprocessing "spawn": nothing inherited, its own catalog connection) imports
the action plugins, then, for each task in turn, waits for that task's start file; the parent
creates it once every process is ready, so the copies of one task start within a millisecond
of each other. One set of processes runs the whole list (starting Python and Ansible is the
slow part on a loaded machine)."""

from __future__ import annotations

import multiprocessing
import os
import time


def _worker(tasks, task_vars, start_dir, ready, results):
    from tests.helpers.inproc import action_class, call

    for module, _args in tasks:
        action_class(module)  # imported before the start: the race is on the catalog, not on imports
    ready.put(("ready", -1))
    for index, (module, args) in enumerate(tasks):
        start = os.path.join(start_dir, f"start-{index}")
        while not os.path.exists(start):
            time.sleep(0.0005)
        try:
            result = call(module, args, task_vars)
        except BaseException as err:  # reported to the test, which fails on it
            result = {"failed": True, "msg": f"exception {type(err).__name__}: {err}"}
        results.put((index, {k: v for k, v in result.items() if k in ("failed", "changed", "msg")}))


def race(tasks: list, task_vars: dict, start_dir: str, processes: int = 2, timeout: float = 300) -> list[list]:
    """For each (module, args) of ``tasks``, the results of its ``processes`` simultaneous runs."""
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(tasks, task_vars, start_dir, ready, results))
             for _ in range(processes)]
    for proc in procs:
        proc.start()
    out: list[list] = [[] for _ in tasks]
    try:
        for _ in procs:
            ready.get(timeout=180)
        for index in range(len(tasks)):
            time.sleep(0.1)
            with open(os.path.join(start_dir, f"start-{index}"), "w", encoding="ascii"):
                pass
            while len(out[index]) < processes:
                done, result = results.get(timeout=timeout)
                out[done].append(result)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return out
