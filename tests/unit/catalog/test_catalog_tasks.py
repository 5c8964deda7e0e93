"""The transaction rule's bookkeeping (catalog.tasks) and runner (workflow), on a real catalog."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import workflow
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import tasks
from ansible_collections.ministack.cloud.plugins.plugin_utils.errors import MinistackError
from sqlalchemy import insert, select, update


def _volume(tx, name="v1", status="creating"):
    project = tx.scalar(select(tx.t.projects.c.id))
    tx.execute(insert(tx.t.volumes), {"id": name, "name": name, "project_id": project, "size": 1,
                                      "status": status, "created_at": tx.now()})
    return name


def _abandon(volume_id):
    return [{"table": "volumes", "id": volume_id, "values": {"status": "error", "status_reason": "{reason}"}}]


def _status(catalog, volume_id):
    with catalog.read() as tx:
        return tx.one_or_none(select(tx.t.volumes).where(tx.t.volumes.c.id == volume_id))


def test_a_live_owner_is_left_alone(catalog):
    with catalog.begin() as tx:
        task = tasks.begin(tx, "volume", _volume(tx), "creating", _abandon("v1"))
    assert tasks.settle_stale(catalog) == []
    with catalog.read() as tx:
        assert [t["id"] for t in tasks.active(tx, "volume", "v1")] == [task]


def test_a_dead_owner_and_a_passed_expiry_are_settled(catalog):
    dead = subprocess.Popen(["true"])
    dead.wait()
    with catalog.begin() as tx:
        tasks.begin(tx, "volume", _volume(tx, "v1"), "creating", _abandon("v1"))
        tx.execute(update(tx.t.tasks).values(owner_pid=dead.pid))
        late = tasks.begin(tx, "volume", _volume(tx, "v2"), "creating", _abandon("v2"))
        tx.execute(update(tx.t.tasks).where(tx.t.tasks.c.id == late).values(
            expires_at=tx.now() - timedelta(seconds=1)))
    settled = tasks.settle_stale(catalog)
    assert len(settled) == 2
    one, two = _status(catalog, "v1"), _status(catalog, "v2")
    assert one["status"] == two["status"] == "error"
    assert "that process is gone" in one["status_reason"] and "its expiry passed" in two["status_reason"]
    with catalog.read() as tx:
        assert tasks.active(tx) == []


class _Resource:
    """The smallest resource the runner takes: queues one host work in transaction 1."""

    read_only = False

    def __init__(self, work, check_mode=False):
        self.work, self.check_mode, self.jobs, self.wait_for = work, check_mode, [], None

    def run(self, tx):
        volume_id = _volume(tx)
        task = tasks.begin(tx, "volume", volume_id, "creating", _abandon(volume_id))

        def failed(tx, reason, undone):
            tx.execute(update(tx.t.volumes).values(status="error", status_reason=f"{reason} (undone: {undone})"))

        def done(tx):
            tx.execute(update(tx.t.volumes).values(status="available"))

        self.jobs.append((task, self.work, done, failed))
        return {"changed": True}

    def rolled_back(self):
        pass

    def report(self, tx, outcome):
        outcome["volume"] = tx.one_or_none(select(tx.t.volumes))


def test_every_undo_step_runs_and_every_failure_is_reported(catalog):
    ran = []

    def work(undo):
        undo.add("first undo", lambda: ran.append("first"))
        undo.add("second undo", lambda: (_ for _ in ()).throw(OSError("target busy")))
        undo.add("third undo", lambda: ran.append("third"))
        raise OSError("lvcreate failed")

    with pytest.raises(MinistackError) as err:
        workflow.execute(catalog, _Resource(work), check_mode=False)
    assert ran == ["third", "first"]
    assert str(err.value) == "lvcreate failed. Undoing it failed too: second undo: target busy"
    row = _status(catalog, "v1")
    assert row["status"] == "error" and row["status_reason"].endswith("(undone: False)")
    with catalog.read() as tx:
        assert tasks.active(tx) == []


def test_the_outcome_is_recorded_after_the_host_work(catalog):
    seen = []

    def work(_undo):
        # No write lock is held here: another writer gets through at once.
        with catalog.begin() as tx:
            seen.append(_status(catalog, "v1")["status"])
            tx.execute(update(tx.t.projects).values(description="touched meanwhile"))

    outcome = workflow.execute(catalog, _Resource(work), check_mode=False)
    assert seen == ["creating"] and outcome["volume"]["status"] == "available"
