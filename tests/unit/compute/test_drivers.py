"""The hypervisor seam: dispatch on hypervisor_type, NotSupported wording, the LXC domain and URI
handling, one libvirt connection shared by compute and block (libvirt's test:///default)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils import virtconn  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import ComputeError  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.drivers import (  # noqa: E402
    Guest,
    Hypervisor,
    NotSupported,
    driver_for,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.drivers.libvirt_lxc import (  # noqa: E402
    LibvirtLxcDriver,
    lxc_domain_xml,
    runner_spec_for_uri,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.drivers.libvirt_qemu import (  # noqa: E402
    LibvirtQemuDriver,
)


def guest(**over):
    fields = dict(id="11111111-2222-3333-4444-555555555555", name="web 1", instance_name="instance-0000002a",
                  project_id="p", flavor_id="f", image_id="i", vcpus=2, memory_mb=192, root_gb=1,
                  availability_zone="nova", image={"id": "i", "name": "rootfs"},
                  ports=[{"mac_address": "fa:16:3e:00:00:01", "libvirt_network": "ministack-net"}])
    fields.update(over)
    return Guest(**fields)


def test_driver_for_dispatches_on_hypervisor_type():
    qemu = driver_for({"host": "c1", "hypervisor_type": "QEMU", "libvirt_uri": "qemu+ssh://root@c1/system",
                       "capabilities": {"virt_type": "kvm"}})
    assert isinstance(qemu, LibvirtQemuDriver) and qemu.uri == "qemu+ssh://root@c1/system" and qemu.virt_type == "kvm"
    assert isinstance(driver_for({"host": "c2", "hypervisor_type": "kvm"}), LibvirtQemuDriver)
    lxc = driver_for({"host": "c1-lxc", "hypervisor_type": "LXC"})
    assert isinstance(lxc, LibvirtLxcDriver) and lxc.uri == "lxc:///system" and lxc.host == "c1-lxc"
    assert isinstance(driver_for({"host": "old"}), LibvirtQemuDriver)  # rows from before hypervisor_type mattered
    with pytest.raises(ComputeError) as err:
        driver_for({"host": "x1", "hypervisor_type": "Xen"})
    assert "Compute host x1 has hypervisor_type XEN, which no ministack driver handles (known: KVM, LXC, QEMU)" \
        in str(err.value)


def test_what_a_driver_cannot_do_is_not_supported_in_novas_words():
    lxc = driver_for({"host": "c1-lxc", "hypervisor_type": "LXC"})
    for call, what in ((lambda: lxc.suspend("x"), "suspend"),
                       (lambda: lxc.snapshot_disk("x", "a", "b", "/tmp/x"), "snapshot (createImage)"),
                       (lambda: lxc.volume_attacher(), "attach volume"),
                       (lambda: lxc.migrate("x", None), "migrate")):
        with pytest.raises(NotSupported) as err:
            call()
        assert str(err.value).startswith(f"The requested functionality is not supported: {what} on LXC host c1-lxc.")
    # The protocol's defaults: a new driver that implements nothing says so for everything.
    bare = Hypervisor()
    bare.hypervisor_type, bare.host = "UML", "u1"
    with pytest.raises(NotSupported, match="not supported: console log on UML host u1"):
        bare.console_log("x")
    qemu = driver_for({"host": "c1", "hypervisor_type": "QEMU"})
    with pytest.raises(NotSupported, match="booting image rootfs, a root filesystem tarball on QEMU host c1"):
        qemu.prepare_root_disk(guest(image={"id": "i", "name": "rootfs", "container_format": "compressed"}))


def test_lxc_domain_has_the_flavor_as_cgroup_limits():
    root = ET.fromstring(lxc_domain_xml(guest(), "/var/lib/ministack/instances/x.rootfs"))
    assert root.get("type") == "lxc" and root.findtext("name") == "instance-0000002a"
    assert root.findtext("memory") == "192" and root.find("memory").get("unit") == "MiB"
    assert root.findtext("vcpu") == "2"
    assert root.findtext("cputune/quota") == "200000" and root.findtext("cputune/period") == "100000"
    assert root.findtext("cputune/shares") == "2048"
    assert root.findtext("os/type") == "exe" and root.findtext("os/init") == "/sbin/init"
    fs = root.find("devices/filesystem")
    assert fs.find("source").get("dir") == "/var/lib/ministack/instances/x.rootfs" and fs.find("target").get("dir") == "/"
    assert root.find("devices/interface/source").get("network") == "ministack-net"
    assert root.find("devices/console").get("type") == "pty"


def test_lxc_runs_host_commands_where_its_uri_points():
    assert runner_spec_for_uri("lxc:///system") == {"connection": "local"}
    assert runner_spec_for_uri("lxc+ssh://ops@10.0.0.5:2222/system?keyfile=/k/id&no_verify=1") == {
        "connection": "ssh", "address": "10.0.0.5", "user": "ops", "port": 2222, "identity_file": "/k/id",
        "host_key_checking": False}
    assert runner_spec_for_uri("lxc+libssh://root@c2/system?known_hosts=/inv/known_hosts")["known_hosts"] == \
        "/inv/known_hosts"
    assert runner_spec_for_uri("lxc+libssh2://root@c2/system?known_hosts=/inv/known_hosts")["address"] == "c2"
    with pytest.raises(ComputeError, match="over lxc\\+ssh://, lxc\\+libssh2:// or lxc\\+libssh:// only"):
        runner_spec_for_uri("lxc+tls://c1/system")


def test_compute_and_block_share_one_libvirt_connection():
    virtconn._connections.pop("test:///default", None)
    qemu = driver_for({"host": "t", "hypervisor_type": "QEMU", "libvirt_uri": "test:///default"})
    attacher = qemu.volume_attacher(cache="none", io="native")
    assert attacher.conn is qemu.conn is virtconn.connect("test:///default")
    qemu.ping()
    assert qemu.instance_name_free("no-such-domain", "x")


def test_a_busy_hosts_ssh_channel_refusal_is_retried_but_a_host_key_problem_is_not(monkeypatch):
    import libvirt

    errors = ["SSH transport error: failed to open ssh channel: Unexpected error",
              "authentication failed: !!! SSH HOST KEY VERIFICATION FAILED !!!: Identity of host '10.0.0.5:22' "
              "differs from stored identity. The key is stored in '/inv/known_hosts'.",
              "SSH transport error: No user interaction callback provided: Can't verify the session host key"]
    assert [virtconn.transient(e) for e in errors] == [True, False, False]
    calls = []

    class Error(libvirt.libvirtError):
        def __init__(self, text):
            super().__init__(text)
            self.text = text

        def get_error_message(self):
            return self.text

    def flaky(uri):
        calls.append(uri)
        if len(calls) == 1:
            raise Error(errors[0])
        return "conn"

    monkeypatch.setattr(virtconn.libvirt, "open", flaky)
    monkeypatch.setattr(virtconn.time, "sleep", lambda s: None)
    monkeypatch.setattr(virtconn, "_connections", {})
    assert virtconn.connect("qemu+libssh2://root@h/system") == "conn" and len(calls) == 2

    def refused(uri):
        calls.append(uri)
        raise Error(errors[1])

    calls.clear()
    monkeypatch.setattr(virtconn.libvirt, "open", refused)
    with pytest.raises(virtconn.ConnectError, match="known_hosts"):
        virtconn.connect("qemu+libssh2://root@h2/system")
    assert len(calls) == 1


def test_a_build_goes_on_to_an_alternate_only_from_a_host_it_never_reached():
    """servers.reach: no connection opens -> HostUnreachable (nothing to clean up there); a host
    that answers passes; a driver without ping is not held back."""
    from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.servers import (
        HostUnreachable,
        reach,
    )

    reach(driver_for({"host": "c1", "hypervisor_type": "QEMU", "libvirt_uri": "test:///default"}))
    with pytest.raises(HostUnreachable, match=r"Cannot connect to the hypervisor at test:///no/such/host\.xml"):
        reach(driver_for({"host": "c9", "hypervisor_type": "QEMU", "libvirt_uri": "test:///no/such/host.xml"}))

    class NoPing(Hypervisor):
        pass

    reach(NoPing())
