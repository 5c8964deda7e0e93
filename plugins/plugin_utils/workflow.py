# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction rule, run: short transaction, host work with no lock, short transaction.

``execute(catalog, resource, check_mode)`` runs one catalog resource (catalog.resource.Resource):

1. ``resource.measure(catalog)`` when the resource has one: host probes a decision needs
   (a block host's free space), each recorded in its own short transaction. Read-only
   resources (info modules) may measure too (compute hosts' heartbeat), then read in one
   snapshot;
2. transaction 1 (the catalog's write lock): find by name, compare, validate, and record the
   intent: the row in its in-between status (``creating``, ``attaching`` ...) and a task
   naming this process as owner (``Resource.host_work``). Finding by name and creating
   happen under this one lock, so two simultaneous creates of one name make one resource;
3. the host work of each task, holding no catalog lock. Each step registers its undo;
4. transaction 2: the outcome. On failure every undo step runs (even when one fails), the
   failures are all reported, and the resource takes the ``failed`` status with the reason.

When transaction 1 finds the resource in another live run's in-between status and has
nothing to change, it waits for that run to finish (or to be settled), then runs again: a
second ``volume: name=x`` while x is being created reports x as it ends up.
"""

from __future__ import annotations

import os
import time

from . import testpoints
from .catalog import tasks
from .errors import MinistackError

POLL_S = 0.5
#: tests only: a file path; each host work waits (10 min at most) until the file exists, so
#: that a test can look at (or kill) a run while it holds its in-between status. Unset in
#: real use.
GATE_ENV = "MINISTACK_TEST_HOST_WORK_GATE"
GATE_MAX_S = 600.0


def _test_gate() -> None:
    gate = os.environ.get(GATE_ENV)
    deadline = time.monotonic() + GATE_MAX_S
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.2)


class Undo:
    """Undo steps of one piece of host work, run newest first; every one runs."""

    def __init__(self):
        self._steps: list = []

    def add(self, what: str, step) -> None:
        self._steps.append((what, step))

    def run(self) -> list[str]:
        failures = []
        for what, step in reversed(self._steps):
            try:
                step()
            except Exception as err:
                failures.append(f"{what}: {err}")
        self._steps.clear()
        return failures


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text or type(err).__name__


def run_job(catalog, job) -> None:
    """Host work of one task, then its outcome in a short transaction."""
    task_id, work, done, failed = job
    undo = Undo()
    try:
        _test_gate()
        testpoints.reached("intent-recorded")
        work(undo)
        testpoints.reached("outcome")
    except BaseException as err:
        failures = undo.run()
        reason = _reason(err)
        if failures:
            reason += ". Undoing it failed too: " + "; ".join(failures)
        with catalog.begin() as tx:
            failed(tx, reason, not failures)
            tasks.end(tx, task_id)
        if isinstance(err, Exception):
            raise MinistackError(reason) from err
        raise
    with catalog.begin() as tx:
        if done is not None:
            done(tx)
        tasks.end(tx, task_id)


def wait_for(catalog, kind: str, resource_id: str, poll: float = POLL_S) -> None:
    """Until no live task works on the resource (a stale one is settled on the way)."""
    while True:
        with catalog.read() as tx:
            running = tasks.active(tx, kind, resource_id)
            stale = tasks.stale(tx)
        if not running:
            return
        if stale:
            tasks.settle_stale(catalog)
            continue
        time.sleep(poll)


def execute(catalog, resource, check_mode: bool) -> dict:
    measure = getattr(resource, "measure", None)
    if measure is not None:  # host probes a decision or a listing needs (each decides what check mode may do)
        measure(catalog)
    if resource.read_only:
        with catalog.read() as tx:
            return resource.run(tx)
    while True:
        try:
            with catalog.begin(dry_run=check_mode) as tx:
                outcome = resource.run(tx)
        except BaseException as err:
            failures = resource.rolled_back()
            if failures and isinstance(err, Exception):
                raise MinistackError(f"{_reason(err)}. Undoing it failed too: {'; '.join(failures)}") from err
            raise
        busy, resource.wait_for = resource.wait_for, None
        if busy is None or check_mode or resource.jobs or outcome.get("changed"):
            break
        wait_for(catalog, *busy)
    jobs, resource.jobs = resource.jobs, []
    if check_mode or not jobs:
        return outcome
    for index, job in enumerate(jobs):
        try:
            run_job(catalog, job)
        except BaseException:
            # The tasks after a failed one never started: settle them as not done.
            with catalog.begin() as tx:
                for task_id, _work, _done, failed in jobs[index + 1:]:
                    failed(tx, "not started: an earlier step failed", True)
                    tasks.end(tx, task_id)
            raise
    with catalog.read() as tx:
        resource.report(tx, outcome)
    return outcome
