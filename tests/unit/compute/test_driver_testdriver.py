"""The driver's domain lifecycle against libvirt's built-in test:///default driver (no QEMU)."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import ComputeError, driver, xmlgen  # noqa: E402


@pytest.fixture
def host():
    h = driver.LibvirtHost("test:///default")
    # test:///default is per-connection state; a fresh connection per test.
    driver._connections.pop("test:///default", None)
    return h


def test_spawn_power_actions_and_destroy(host):
    spec = xmlgen.DomainSpec(name="instance-000000ff", uuid="11111111-2222-3333-4444-555555555555",
                             memory_mb=64, vcpus=1)
    host.spawn(spec, timeout=5)
    assert host.power_state(spec.uuid) == driver.RUNNING
    host.pause(spec.uuid)
    assert host.power_state(spec.uuid) == driver.PAUSED
    host.unpause(spec.uuid)
    host.reboot(spec.uuid, hard=True)
    assert host.power_state(spec.uuid) == driver.RUNNING
    assert host.domain_uuid("instance-000000ff") == spec.uuid
    removed = host.destroy(spec.uuid, "none-", ())
    assert removed == [f"domain {spec.uuid}"]
    assert not host.domain_exists(spec.uuid)
    assert host.destroy(spec.uuid, "none-", ()) == []


def test_missing_domain_errors_name_it(host):
    with pytest.raises(ComputeError, match="does not exist"):
        host.start("instance-00000abc")


def test_host_uri_choices():
    assert driver.host_uri({"address": "localhost"}) == "qemu:///system"
    assert driver.host_uri({"address": "10.0.0.2", "ssh_user": "nova", "ssh_key": "/k"}) == \
        "qemu+ssh://nova@10.0.0.2/system?keyfile=/k&no_verify=1"
    assert driver.host_uri({"libvirt_uri": "qemu+tls://h/system"}) == "qemu+tls://h/system"
    assert driver.instance_name(13) == "instance-0000000d"
