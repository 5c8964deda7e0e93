# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-compare-diff-apply for one catalog resource, independent of Ansible.

A subclass says how to find the resource, what the task wants, and how to create,
update or delete it; ``run(tx)`` does the rest. Check mode runs the very same code in a
transaction that is rolled back (``catalog.begin(dry_run=True)``), so ``changed`` and the
diff are exactly what a real run would give, and nothing is kept.

Work outside the database that is quick and local (writing a file) may run inside the
transaction: it must look at ``self.check_mode`` and register an undo step with
``self.on_rollback(fn)``, which runs if the transaction does not commit.

Host work (anything that reaches a host, or may take long) never runs inside it: the
resource records its in-between status and calls ``self.host_work(...)``, and the runner
(``plugin_utils/workflow.py``) runs the work after the commit, with no catalog lock held,
then the outcome in a short transaction of its own (the transaction rule).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from . import tasks
from .errors import InvalidInput

#: Nova's db.MAX_INT: the largest whole number an API field takes (and what SQL INTEGER holds).
MAX_INT = 2**31 - 1


def iso(value: datetime | None) -> str | None:
    """A catalog time as Nova prints it: 2025-01-15T06:12:09.000000."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value is not None else None


class Resource:
    """One resource type; one instance per task."""

    #: key of the resource in the module result (``flavor``, ``aggregate``, ...)
    result_key = "resource"
    #: info modules: run in a read-only transaction, never change anything
    read_only = False
    #: fields compared for ``changed`` (None values in the desired state are ignored:
    #: an option the task does not set keeps the current value)
    compared: tuple[str, ...] = ()

    def __init__(self, params: dict, check_mode: bool = False, context: dict | None = None):
        self.params = params
        self.check_mode = check_mode
        self.context = context or {}
        self.extra: dict = {}  # more result keys (e.g. a generated private key)
        self.hide_result = False  # set when the result carries a secret handed out once
        self.warnings: list[str] = []
        self._undo: list = []
        #: host work queued by transaction 1: (task id, work(undo), done(tx), failed(tx, reason, undone))
        self.jobs: list = []
        #: (kind, id) when find() met the resource in another live run's in-between status
        self.wait_for: tuple | None = None

    # -- to implement ---------------------------------------------------------------
    def find(self, tx) -> dict | None:
        """The resource as the module returns it, or None."""
        raise NotImplementedError

    def desired(self, tx, current: dict | None) -> dict:
        """The wanted state (same keys as find()); validate here, raising InvalidInput."""
        raise NotImplementedError

    def create(self, tx, desired: dict) -> None:
        raise NotImplementedError

    def update(self, tx, current: dict, desired: dict, changes: dict) -> None:
        raise NotImplementedError

    def delete(self, tx, current: dict) -> None:
        raise NotImplementedError

    # -- the common flow ------------------------------------------------------------
    def changes(self, current: dict, desired: dict) -> dict:
        """field -> wanted value, for every compared field that differs."""
        return {
            key: desired[key]
            for key in self.compared
            if key in desired and desired[key] is not None and desired[key] != current.get(key)
        }

    def run(self, tx) -> dict:
        state = self.params.get("state") or "present"
        current = self.find(tx)
        if state == "absent":
            if current is None:
                return self.outcome(False, None, None)
            self.delete(tx, current)
            return self.outcome(True, current, None)
        desired = self.desired(tx, current)
        if current is None:
            self.create(tx, desired)
            changed = True
        else:
            changes = self.changes(current, desired)
            if changes:
                self.update(tx, current, desired, changes)
            changed = bool(changes)
        return self.outcome(changed, current, self.find(tx))

    def outcome(self, changed: bool, before: dict | None, after: dict | None) -> dict:
        return {
            "changed": changed,
            self.result_key: after,
            "diff": {"before": self.for_diff(before), "after": self.for_diff(after)},
            **self.extra,
        }

    def for_diff(self, record: dict | None) -> dict:
        """What the diff shows of a record (drop timestamps that always change)."""
        if record is None:
            return {}
        return {k: v for k, v in record.items() if k not in ("created_at", "updated_at")}

    def host_work(self, tx, kind: str, resource_id: str, action: str, work, failed, done=None,
                  abandon: list | None = None, ttl: float = tasks.DEFAULT_TTL_S) -> None:
        """Queue host work to run after this transaction commits (not in check mode).

        ``work(undo)`` runs with no catalog lock and registers its undo steps with
        ``undo.add(what, fn)``; ``done(tx)`` records success, ``failed(tx, reason, undone)``
        records failure after every undo step ran (``undone``: all of them succeeded).
        ``abandon`` says what the resource becomes if this process dies before either."""
        if self.check_mode:
            return
        task_id = tasks.begin(tx, kind, resource_id, action, list(abandon or []), ttl)
        self.jobs.append((task_id, work, done, failed))

    def busy(self, tx, kind: str, resource_id: str) -> bool:
        """True (and the runner waits before reporting) when a live task works on it."""
        running = [t for t in tasks.active(tx, kind, resource_id) if t not in tasks.stale(tx)]
        if running:
            self.wait_for = (kind, resource_id)
        return bool(running)

    def report(self, tx, outcome: dict) -> None:
        """After the host work: the result shows the resource as it ended up."""
        if (self.params.get("state") or "present") == "absent":
            return
        after = self.find(tx)
        outcome[self.result_key] = after
        outcome["diff"]["after"] = self.for_diff(after)

    def on_rollback(self, step, what: str = "undo step") -> None:
        self._undo.append((what, step))

    def rolled_back(self) -> list[str]:
        """Called by the runner when the transaction did not commit: every undo step runs,
        newest first, even when one fails; returns the failures (one line each)."""
        failures = []
        for what, step in reversed(self._undo):
            try:
                step()
            except Exception as err:  # the next steps still run; the caller reports them all
                failures.append(f"{what}: {str(err).strip() or type(err).__name__}")
        self._undo.clear()
        return failures


# -- validation helpers used by the resources -----------------------------------------


def require_name(field: str, value, max_length: int = 255) -> str:
    if value is None or not str(value).strip():
        raise InvalidInput(field, "must not be empty")
    value = str(value)
    if value != value.strip():
        raise InvalidInput(field, f"must not start or end with spaces, got {value!r}")
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters, got {len(value)}")
    for char in value:
        # Nova's valid_name_regex: printable characters only (no control, format, surrogate or
        # separator character other than the space); they would break libvirt's XML and logs.
        category = unicodedata.category(char)
        if category[0] == "C" or (category[0] == "Z" and char != " "):
            raise InvalidInput(field, f"must not contain control or non-printable characters "
                                      f"(found U+{ord(char):04X}), got {value!r}")
    return value


def require_int(field: str, value, minimum: int | None = 0, maximum: int | None = MAX_INT, unit: str = ""):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number, got {value!r}")
    suffix = f" {unit}" if unit else ""
    if minimum is not None and value < minimum:
        raise InvalidInput(field, f"must be at least {minimum}{suffix}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidInput(field, f"must be at most {maximum}{suffix}, got {value}")
    return value


def require_float(field: str, value, minimum_exclusive: float | None = 0.0):
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, f"must be a number, got {value!r}") from None
    if minimum_exclusive is not None and number <= minimum_exclusive:
        raise InvalidInput(field, f"must be greater than {minimum_exclusive:g}, got {value!r}")
    return number


def string_dict(field: str, value: dict | None, max_length: int = 255) -> dict | None:
    """A metadata dict as the catalog stores it: string keys and string values."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(field, f"must be a dictionary of key: value, got {value!r}")
    result = {}
    for key, item in value.items():
        key_text = str(key)
        if not key_text or len(key_text) > max_length:
            raise InvalidInput(field, f"key {key_text!r} must be 1 to {max_length} characters")
        if item is None:
            raise InvalidInput(field, f"value of {key_text!r} must not be empty (remove the key instead)")
        text = _spec_text(item)
        if len(text) > max_length:
            raise InvalidInput(field, f"value of {key_text!r} must be at most {max_length} characters")
        result[key_text] = text
    return result


def _spec_text(value) -> str:
    # YAML turns `SSD: true` into a boolean; Nova stores the string the CLI sent ('true').
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
