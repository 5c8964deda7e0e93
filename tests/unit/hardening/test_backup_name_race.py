"""Issue 13, item 10 for volume_backup: two runs creating the same backup name at the same
moment make one backup. The module looks the name up in one transaction and records the new
backup in another (the object store is reached in between), so the name is looked up again
under the write lock that records it (backup/service.plan_create).

Two real processes, each with its own catalog connection (SQLite file, PostgreSQL database),
both look the name up and find nothing, then record at the same instant. No object store is
involved: the race is on the catalog record."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
import uuid

from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import resources, service
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.projects import default_project
from sqlalchemy import insert, select

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "catalog"))
from catalog_pg import catalog_url, postgres_url, sqlite_url  # noqa: F401  (fixtures)

HOST = "race-blk@file"


CASES = [("race-inuse", "in-use", True), ("race-avail", "available", False)]  # backup name, volume, force


def _world(url):
    """A volume service and one 1 GiB volume per case, named after the case's backup."""
    catalog = open_catalog(url)
    with catalog.begin() as tx:
        now = tx.now()
        project = default_project(tx)
        tx.execute(insert(tx.t.volume_services), {"id": str(uuid.uuid4()), "host": HOST, "backend": "file",
                                                  "connection": {"kind": "local"}, "created_at": now})
        for name, status, _force in CASES:
            tx.execute(insert(tx.t.volumes), {"id": str(uuid.uuid4()), "name": f"{name}-vol", "size": 1,
                                              "project_id": project["id"], "status": status, "host": HOST,
                                              "created_at": now})
    return catalog, project


def _racer(url, project, start_dir, results):
    """What VolumeBackup does for each case: look the name up (nothing), then record the backup."""
    catalog = open_catalog(url)
    try:
        for index, (name, _status, force) in enumerate(CASES):
            params = {"name": name, "volume": f"{name}-vol", "force": force}
            with catalog.read() as tx:
                seen = service.find_backup(tx, name, project["id"])
            results.put((index, "looked", seen is not None))
            start = os.path.join(start_dir, f"start-{index}")
            while not os.path.exists(start):
                time.sleep(0.0005)
            try:
                with catalog.begin() as tx:
                    plan = service.plan_create(tx, params, project, 60)
                results.put((index, "made", plan["backup"]["id"]))
            except service.NameTaken as taken:
                results.put((index, "taken", taken.row["id"]))
            except Exception as err:  # reported to the test, which fails on it
                results.put((index, "failed", f"{type(err).__name__}: {err}"))
    finally:
        catalog.dispose()


def test_two_processes_creating_one_backup_name_make_one(catalog_url, tmp_path):  # noqa: F811
    """Cases: an in-use volume with force (before the fix: two backups of one name) and an
    available volume (before: the second run failed on the first's backing-up status)."""
    catalog, project = _world(catalog_url)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(catalog_url, project, str(tmp_path), results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    outcomes, seen = {}, []

    def take(index, looked):  # the two processes' messages of one case and step (they interleave)
        while len(mine := [m for m in seen if m[0] == index and (m[1] == "looked") == looked]) < len(procs):
            seen.append(results.get(timeout=120))
        return sorted(m[1:] for m in mine)

    try:
        for index in range(len(CASES)):
            assert take(index, True) == [("looked", False)] * 2  # both found no backup of that name
            time.sleep(0.05)
            (tmp_path / f"start-{index}").touch()
            outcomes[CASES[index][0]] = take(index, False)
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    with catalog.read() as tx:
        rows = {name: tx.all(select(tx.t.backups).where(tx.t.backups.c.name == name)) for name, _s, _f in CASES}
    catalog.dispose()
    wrong = {}
    for name, got in outcomes.items():
        # one run made it; the other was told which backup holds the name (and reports it)
        if len(rows[name]) != 1 or [kind for kind, _ in got] != ["made", "taken"] \
                or not got[0][1] == got[1][1] == rows[name][0]["id"]:
            wrong[name] = (len(rows[name]), got)
    assert wrong == {}, wrong


def test_volume_backup_reports_the_other_runs_backup_when_its_lookup_missed_it(sqlite_url):  # noqa: F811
    """The module's side: a run whose lookup came before the other run's record reports that
    backup (unchanged) instead of failing or making a second one."""
    catalog, project = _world(sqlite_url)
    name = CASES[1][0]
    with catalog.begin() as tx:
        made = service.plan_create(tx, {"name": name, "volume": f"{name}-vol"}, project, 60)
    with catalog.begin() as tx:  # the other run finished: its task ends with the outcome
        service.end_tasks(tx, made["backup"]["id"])
    service.set_backup(catalog, made["backup"]["id"], status="available")

    class LookedTooEarly(resources.VolumeBackup):
        missed = False

        def _find(self, catalog, project, settle=True):
            if not self.missed:  # the first lookup ran before the other run's record
                self.missed = True
                return None
            return super()._find(catalog, project, settle)

    backup = LookedTooEarly({"name": name, "volume": f"{name}-vol", "auth": {"auth_url": "http://127.0.0.1:9/v3"}})
    result = backup.execute(catalog)
    catalog.dispose()
    assert backup.missed
    assert result["changed"] is False, result
    assert result["backup"]["id"] == made["backup"]["id"]
