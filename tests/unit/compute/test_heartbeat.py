"""The controller's heartbeat of compute hosts before `compute service list` and `hypervisor
list`: a host whose libvirt answers lists up though nothing reached it for minutes; one that
does not answer stays down; check mode and probe=false record nothing. Real libvirt: the built-in
test:///default driver answers, a qemu+tcp URI on a closed port does not."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils import workflow
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog, touch_service
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.errors import InvalidInput
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.compute_services import (
    ComputeService,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.services import (
    ProbingComputeServiceInfo,
    ProbingHypervisorInfo,
)

from tests.helpers.net import closed_port


@pytest.fixture
def catalog(tmp_path):
    opened = open_catalog(f"sqlite:///{tmp_path}/catalog.db")
    for host, uri in (("answers", "test:///default"),
                      ("silent", f"qemu+tcp://127.0.0.1:{closed_port()}/system")):
        workflow.execute(opened, ComputeService({"host": host, "vcpus": 4, "memory_mb": 4096, "local_gb": 40,
                                                 "libvirt_uri": uri}), False)
    with opened.begin() as tx:  # neither reached for ten minutes: both down
        for host in ("answers", "silent"):
            touch_service(tx, host, tx.now() - timedelta(minutes=10))
    yield opened
    opened.dispose()


def _states(catalog, check=False, **params):
    listed = workflow.execute(catalog, ProbingComputeServiceInfo({"binary": "nova-compute", **params},
                                                                 check_mode=check), check)
    return {s["host"]: s["state"] for s in listed["compute_services"]}


def test_probe_false_and_check_mode_list_what_is_recorded(catalog):
    assert _states(catalog, probe=False) == {"answers": "down", "silent": "down"}
    assert _states(catalog, check=True) == {"answers": "down", "silent": "down"}


def test_listing_reaches_the_hosts_first(catalog):
    t0 = time.monotonic()
    assert _states(catalog) == {"answers": "up", "silent": "down"}
    assert time.monotonic() - t0 < 10  # the probes run in parallel, 5 s at most
    # The contact was recorded: a listing without probing now shows it too.
    assert _states(catalog, probe=False) == {"answers": "up", "silent": "down"}


def test_a_disabled_host_is_not_reached(catalog):
    workflow.execute(catalog, ComputeService({"host": "answers", "enabled": False}), False)
    assert _states(catalog)["answers"] == "down"


def test_bad_input_fails_before_any_host_is_reached(catalog):
    with catalog.read() as tx:
        before = {r["host"]: r["last_seen"] for r in tx.all(select(tx.t.compute_services))}
    with pytest.raises(InvalidInput, match="service_down_time"):
        _states(catalog, service_down_time=0)
    with catalog.read() as tx:
        assert {r["host"]: r["last_seen"] for r in tx.all(select(tx.t.compute_services))} == before


def _hypervisor_states(catalog, check=False, **params):
    listed = workflow.execute(catalog, ProbingHypervisorInfo(params, check_mode=check), check)
    return {h["hypervisor_hostname"]: h["state"] for h in listed["hypervisors"]}


def test_hypervisor_list_reaches_the_hosts_first_as_the_service_list_does(catalog):
    assert _hypervisor_states(catalog, probe=False) == {"answers": "down", "silent": "down"}
    assert _hypervisor_states(catalog, check=True) == {"answers": "down", "silent": "down"}
    assert _hypervisor_states(catalog) == {"answers": "up", "silent": "down"}
    assert _states(catalog, probe=False) == {"answers": "up", "silent": "down"}  # the same record
    with pytest.raises(InvalidInput, match="service_down_time"):
        _hypervisor_states(catalog, service_down_time=0)
