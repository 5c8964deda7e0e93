"""Issue 13, item 3: every undo step runs even when one fails, and all failures are reported
(catalog.resource.Resource.rolled_back, used when a transaction does not commit, and
workflow.Undo, used when host work fails)."""

from __future__ import annotations

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import workflow
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resource import Resource
from ansible_collections.ministack.cloud.plugins.plugin_utils.errors import MinistackError


def _steps(register):
    ran = []

    def ok(label):
        return lambda: ran.append(label)

    def boom(label):
        def step():
            ran.append(label)
            raise RuntimeError(f"{label} timed out")
        return step

    register("removing the target", ok("unexport"))
    register("dropping the secret", boom("secret"))
    register("unplugging the disk", boom("detach"))
    return ran


def test_resource_rollback_runs_every_step_and_returns_every_failure():
    resource = Resource({})
    ran = _steps(lambda what, step: _register(resource, step, what))
    failures = resource.rolled_back()
    assert ran == ["detach", "secret", "unexport"]
    assert failures == ["unplugging the disk: detach timed out", "dropping the secret: secret timed out"]


def test_host_work_undo_runs_every_step_and_returns_every_failure():
    undo = workflow.Undo()
    ran = _steps(undo.add)
    assert undo.run() == ["unplugging the disk: detach timed out", "dropping the secret: secret timed out"]
    assert ran == ["detach", "secret", "unexport"]


def _register(resource, step, what):
    try:
        resource.on_rollback(step, what)
    except TypeError:  # before the fix on_rollback took no description: same behaviour test
        resource.on_rollback(step)


class _Failing(Resource):
    def run(self, tx):
        _register(self, lambda: (_ for _ in ()).throw(OSError("disk gone")), "removing the copied file")
        raise MinistackError("the insert failed")


class _Catalog:
    class _Tx:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def begin(self, dry_run=False):
        return self._Tx()


def test_a_failed_transaction_reports_its_error_and_every_failed_undo_step():
    with pytest.raises(MinistackError) as err:
        workflow.execute(_Catalog(), _Failing({}), check_mode=False)
    assert str(err.value) == "the insert failed. Undoing it failed too: removing the copied file: disk gone"
