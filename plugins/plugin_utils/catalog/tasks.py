# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who is working on what, outside the catalog lock (the transaction rule's bookkeeping).

Host work (lvcreate, a hot-plug, booting a guest) never runs inside a write transaction.
Instead a short transaction records a task: the resource, the in-between status it shows,
its owner (this controller's host name, the process id and that process's start time) and
an expiry. A short transaction at the end removes the task with the outcome.

A task whose owner is gone (same host, and the pid is not running or is another process
now) or whose expiry has passed is *stale*: the run that owned it was killed. ``settle``
applies what the task said the resource becomes when abandoned (``error`` with a reason,
``ERROR`` with a fault) and removes it. Every module run settles stale tasks first, so a
killed run is settled the next time anything touches the catalog.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, select, update
except ImportError:
    pass

from ..processes import started_at

DEFAULT_TTL_S = 3600


def owner() -> dict:
    pid = os.getpid()
    return {"owner_host": socket.gethostname(), "owner_pid": pid, "owner_started": started_at(pid)}


def owner_alive(task: dict) -> bool:
    """False when the owner is known to be gone: same host, and its pid is free or reused."""
    if task["owner_host"] != socket.gethostname():
        return True  # another controller's process: only its expiry tells
    if not os.path.isdir("/proc/self"):
        return _pid_exists(task["owner_pid"])
    started = started_at(task["owner_pid"])
    if started is None:
        return False
    recorded = task.get("owner_started")
    return recorded is None or abs(started - recorded) < 1.0


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def begin(tx, kind: str, resource_id: str, action: str, abandon: list[dict], ttl: float = DEFAULT_TTL_S) -> str:
    """Record that this process starts ``action`` on a resource. ``abandon`` lists the updates
    ({"table", "id", "values"}) that settle the resource if this process dies meanwhile; a
    value "{reason}" inside a string is replaced by why it was settled, "{now}" by the time."""
    now = tx.now()
    task_id = str(uuid.uuid4())
    tx.execute(tx.t.tasks.insert(), {
        "id": task_id, "kind": kind, "resource_id": resource_id, "action": action, **owner(),
        "started_at": now, "expires_at": now + timedelta(seconds=ttl), "abandon": abandon,
    })
    return task_id


def end(tx, task_id: str) -> None:
    tx.execute(delete(tx.t.tasks).where(tx.t.tasks.c.id == task_id))


def extend(tx, task_id: str, ttl: float) -> None:
    tx.execute(update(tx.t.tasks).where(tx.t.tasks.c.id == task_id).values(
        expires_at=tx.now() + timedelta(seconds=ttl)))


def active(tx, kind: str | None = None, resource_id: str | None = None) -> list[dict]:
    t = tx.t.tasks
    query = select(t).order_by(t.c.started_at)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    if resource_id is not None:
        query = query.where(t.c.resource_id == resource_id)
    return tx.all(query)


def stale(tx) -> list[dict]:
    now = tx.now()
    return [task for task in active(tx) if task["expires_at"] <= now or not owner_alive(task)]


def reason_for(task: dict, now) -> str:
    why = "its expiry passed" if task["expires_at"] <= now else "that process is gone"
    return (f"{task['action']} was interrupted: the run that owned it (pid {task['owner_pid']} on "
            f"{task['owner_host']}, started {task['started_at']:%Y-%m-%dT%H:%M:%S}) ended without finishing "
            f"({why})")


def _fill(value, reason, now):
    if isinstance(value, str):
        return value.replace("{reason}", reason).replace("{now}", now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if isinstance(value, dict):
        return {k: _fill(v, reason, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, reason, now) for v in value]
    return value


def settle(tx, tasks: list[dict]) -> list[str]:
    """Apply each stale task's abandon updates and remove it. Returns the reasons."""
    now = tx.now()
    reasons = []
    for task in tasks:
        reason = reason_for(task, now)
        for change in task.get("abandon") or []:
            table = tx.tables[change["table"]]
            values = _fill(dict(change["values"]), reason, now)
            if "updated_at" in table.c:
                values.setdefault("updated_at", now)
            tx.execute(update(table).where(table.c.id == change["id"]).values(**values))
        end(tx, task["id"])
        reasons.append(f"{task['kind']} {task['resource_id']}: {reason}")
    return reasons


def settle_stale(catalog) -> list[str]:
    """Settle every stale task (a read first: no write lock when there is nothing to do)."""
    with catalog.read() as tx:
        if not stale(tx):
            return []
    with catalog.begin() as tx:
        return settle(tx, stale(tx))
