"""The controller's heartbeat of block hosts before `volume service list`: a backend that
answers lists up (cinder-volume and its cinder-backup row) though nothing reached it for
minutes; one that does not answer stays down, within the probe's time limit; check mode and
probe=false record nothing. Real commands: a file backend through the local runner, and an SSH
runner pointed at a closed port on this machine."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import workflow
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import runner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volume_services import (
    VolumeService,
    VolumeServiceInfo,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
from sqlalchemy import update

from tests.helpers.net import closed_port


@pytest.fixture
def catalog(tmp_path):
    opened = open_catalog(f"sqlite:///{tmp_path}/catalog.db")
    (tmp_path / "volumes").mkdir()
    workflow.execute(opened, VolumeService({
        "host": "answers@file", "backend": "file",
        "backend_config": {"file_directory": str(tmp_path / "volumes"), "file_capacity_gib": 5}}), False)
    workflow.execute(opened, VolumeService({
        "host": "silent@file", "backend": "file", "backend_config": {"file_directory": str(tmp_path / "volumes")}}),
        False)
    with opened.begin() as tx:  # then its host went away: nothing listens where it is reached now
        t = tx.t.volume_services
        gone = runner.connection_spec({"connection": "ssh", "address": "127.0.0.1", "port": closed_port(),
                                       "host_key_checking": False})
        tx.execute(update(t).where(t.c.host == "silent@file").values(connection=gone))
    with opened.begin() as tx:  # neither reached for ten minutes: both down
        t = tx.t.volume_services
        tx.execute(update(t).values(last_seen=tx.now() - timedelta(minutes=10)))
    yield opened
    opened.dispose()


def _states(catalog, check=False, **params):
    listed = workflow.execute(catalog, VolumeServiceInfo(params, check_mode=check), check)
    return ({s["host"]: s["state"] for s in listed["services"]},
            {s["host"]: s["state"] for s in listed["backup_services"]})


def test_probe_false_and_check_mode_list_what_is_recorded(catalog):
    down = ({"answers@file": "down", "silent@file": "down"}, {"answers": "down", "silent": "down"})
    assert _states(catalog, probe=False) == down
    assert _states(catalog, check=True) == down


def test_listing_measures_the_backends_first(catalog):
    t0 = time.monotonic()
    up = ({"answers@file": "up", "silent@file": "down"}, {"answers": "up", "silent": "down"})
    assert _states(catalog) == up
    assert time.monotonic() - t0 < 20  # in parallel, 15 s at most
    assert _states(catalog, probe=False) == up  # the contact was recorded
