"""Scheduling across two compute hosts: an availability zone, an SSD aggregate, and requests that fit
nowhere (ERROR "No valid host was found. ...", nothing left on any host).

The second compute host, ``compute2``, is a second libvirt connection (qemu+unix:///system) to this
machine's libvirtd, registered as its own compute service: the catalog and the scheduler see two hosts.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.helpers import guest

pytestmark = [pytest.mark.vm]

SCHEDULER = {"enabled_filters": ["ComputeFilter", "AvailabilityZoneFilter", "AggregateInstanceExtraSpecsFilter",
                                 "ImagePropertiesFilter"]}


def domains() -> str:
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system", "list", "--all", "--uuid"], capture_output=True,
                          text=True, check=False).stdout


@pytest.fixture(scope="module")
def sched(cloud):
    image = guest.ensure_test_image()
    suffix = uuid.uuid4().hex[:4]
    net = f"scnet-{suffix}"
    setup = [
        {"name": "Network", "ministack.cloud.network": {"name": net, "cidr": str(guest.free_subnet())}},
        {"name": "Image", "ministack.cloud.image": {"name": "cirros6", "filename": str(image)}},
        {"name": "Flavor nano", "ministack.cloud.flavor": {"name": "m1.nano", "ram": 128, "vcpus": 1, "disk": 1}},
        {"name": "Flavor ssd", "ministack.cloud.flavor": {
            "name": "m1.ssd", "ram": 128, "vcpus": 1, "disk": 1,
            "extra_specs": {"aggregate_instance_extra_specs:SSD": "true"}}},
        {"name": "Flavor huge", "ministack.cloud.flavor": {"name": "m1.huge", "ram": 40_000, "vcpus": 1,
                                                          "disk": 1}},
        {"name": "Second host", "ministack.cloud.compute_service": {
            "host": "compute2", "libvirt_uri": "qemu+unix:///system", "discover": True,
            "capabilities": {"virt_type": "qemu"}}},
        {"name": "Zone", "ministack.cloud.aggregate": {"name": "az2", "availability_zone": "zone2",
                                                       "hosts": ["compute2"]}},
        {"name": "SSD aggregate", "ministack.cloud.aggregate": {"name": "agg1", "metadata": {"SSD": "true"},
                                                                "hosts": ["localhost"]}},
    ]
    result = cloud.play(setup)
    assert result.rc == 0, result.explain()
    names = {"net": net, "zoned": f"zoned-{suffix}", "ssd": f"ssd-{suffix}", "huge": f"huge-{suffix}",
             "nowhere": f"nowhere-{suffix}"}
    yield cloud, names
    cloud.play([
        *[{"name": f"Delete {n}", "ministack.cloud.server": {"name": names[n], "state": "absent"}}
          for n in ("zoned", "ssd", "huge", "nowhere")],
        {"name": "Zone", "ministack.cloud.aggregate": {"name": "az2", "state": "absent"}},
        {"name": "SSD aggregate", "ministack.cloud.aggregate": {"name": "agg1", "state": "absent"}},
        {"name": "Second host", "ministack.cloud.compute_service": {"host": "compute2", "state": "absent"}},
        {"name": "Network", "ministack.cloud.network": {"name": net, "state": "absent"}},
    ])


def boot(cloud, names, key, flavor, **extra):
    task = {"name": "Boot", "ministack.cloud.server": {"name": names[key], "image": "cirros6", "flavor": flavor,
                                                       "network": names["net"], **extra}}
    return cloud.play([task], extra_vars={"ministack_scheduler_config": SCHEDULER})


def test_availability_zone_picks_the_zone_host(sched):
    cloud, names = sched
    result = boot(cloud, names, "zoned", "m1.nano", availability_zone="zone2")
    assert result.rc == 0, result.explain()
    server = result.task("Boot")["server"]
    assert server["host"] == "compute2"
    assert server["availability_zone"] == "zone2"
    assert server["status"] == "ACTIVE"
    assert server["id"] in domains()


def test_ssd_flavor_lands_in_the_ssd_aggregate(sched):
    cloud, names = sched
    result = boot(cloud, names, "ssd", "m1.ssd")
    assert result.rc == 0, result.explain()
    server = result.task("Boot")["server"]
    assert server["host"] == "localhost"
    assert server["availability_zone"] == "nova"


def _assert_no_valid_host(result, cloud):
    assert result.rc != 0
    task = result.task("Boot")
    assert task["msg"].startswith("No valid host was found."), task["msg"]
    server = task["server"]
    assert server["status"] == "ERROR" and server["vm_state"] == "error"
    assert server["fault"]["message"] == task["msg"]
    assert server["host"] is None
    assert server["id"] not in domains()
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import allocations

    with cloud.open_catalog().read() as tx:
        assert [a for a in allocations(tx) if a["server_id"] == server["id"]] == []


def test_larger_than_any_host_ends_in_error(sched):
    cloud, names = sched
    result = boot(cloud, names, "huge", "m1.huge")
    _assert_no_valid_host(result, cloud)
    assert "RamFilter" in result.task("Boot")["msg"]


def test_ssd_in_a_zone_without_ssd_hosts_fits_nowhere(sched):
    cloud, names = sched
    result = boot(cloud, names, "nowhere", "m1.ssd", availability_zone="zone2")
    _assert_no_valid_host(result, cloud)
    # A second run does not retry the build: the server stays in ERROR with its fault.
    again = boot(cloud, names, "nowhere", "m1.ssd", availability_zone="zone2")
    assert again.rc != 0 and "is in ERROR" in again.task("Boot")["msg"]
