"""Unit tests of the block library pieces that need no daemon: scheduler, CHAP secret
encryption, tgt config rendering and parsing, libvirt disk XML and device naming, runner
redaction, LVM naming."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import (
    attach,
    backends,
    runner,
    scheduler,
    secrets,
    targets,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import (
    CommandFailed,
    InvalidInput,
    NoValidBackend,
)


def svc(host, free, total=100, zone="nova", thin=False, provisioned=0, **kw):
    return {"host": host, "free_capacity_gb": free, "total_capacity_gb": total, "zone": zone,
            "thin_provisioning": thin, "provisioned_capacity_gb": provisioned, **kw}


def test_scheduler_picks_most_free_in_zone():
    services = [svc("a@lvm", 10), svc("b@lvm", 50), svc("c@lvm", 90, zone="az2")]
    assert scheduler.schedule(services, 5)["host"] == "c@lvm"
    assert scheduler.schedule(services, 5, availability_zone="nova")["host"] == "b@lvm"


def test_scheduler_reasons():
    with pytest.raises(NoValidBackend, match=r"No valid backend was found. Insufficient free space for volume "
                                             r"creation \(requested / avail\): 60/50"):
        scheduler.schedule([svc("a@lvm", 10), svc("b@lvm", 50)], 60)
    with pytest.raises(NoValidBackend, match="availability zone 'az9'"):
        scheduler.schedule([svc("a@lvm", 10)], 1, availability_zone="az9")
    with pytest.raises(NoValidBackend, match="disabled or down"):
        scheduler.schedule([svc("a@lvm", 10, state="down")], 1)
    with pytest.raises(NoValidBackend, match="No volume service is registered"):
        scheduler.schedule([], 1)


def test_a_scheduling_failure_names_the_hosts_not_reached_just_now():
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.resource import to_catalog_error
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import with_unreached

    with pytest.raises(NoValidBackend) as raised:
        scheduler.schedule([svc("block1", 10, state="down")], 1)
    err = raised.value
    assert with_unreached(err, {}) is err
    reason = "Command ssh failed (exit 255): cannot reach the host over ssh root@10.0.0.13:22: No route to host"
    message = str(to_catalog_error(with_unreached(err, {"block1": reason})))
    assert message == ("No valid host was found. Every volume service is disabled or down. Not reachable now: "
                       f"block1: {reason}")


def test_scheduler_thin_oversubscription_and_reserved():
    thin = svc("t@lvm", 5, total=10, thin=True, provisioned=150)
    assert scheduler.fits(thin, 50)  # (150 + 50) / 10 = 20 <= 20.0
    assert not scheduler.fits(thin, 51)
    assert not scheduler.fits(svc("r@lvm", 10, total=100, reserved_percentage=10), 1)


def test_secret_round_trip_and_wrong_key():
    stored = secrets.encrypt("k" * 16, "chap-secret-123")
    assert "chap-secret-123" not in stored and stored.startswith("fernet1$")
    assert secrets.decrypt("k" * 16, stored) == "chap-secret-123"
    with pytest.raises(InvalidInput, match="cannot be decrypted"):
        secrets.decrypt("x" * 16, stored)
    with pytest.raises(InvalidInput, match="secret_key is missing or shorter than 16 characters: set the option secret_key"):
        secrets.encrypt("short", "x")


def test_chap_credentials_are_random_and_shell_safe():
    pairs = {targets.generate_chap() for _ in range(50)}
    assert len(pairs) == 50
    for user, secret in pairs:
        assert user.isalnum() and secret.isalnum() and len(secret) >= 12


def test_tgt_render_has_acl_and_chap():
    tgt = targets.TgtTarget(runner.LocalRunner(), bstype="rdwr")
    conf = tgt.render("iqn.2010-10.org.ministack:volume-1", "/dev/vg/volume-1", "u", "s" * 20,
                      ["iqn.x:init"], ["10.0.0.5"])
    assert "<target iqn.2010-10.org.ministack:volume-1>" in conf and "bs-type rdwr" in conf
    assert "incominguser u " + "s" * 20 in conf
    assert "initiator-address 10.0.0.5" in conf and "initiator-name iqn.x:init" in conf
    with pytest.raises(InvalidInput):
        tgt.render("iqn.x", "/dev/vg/a b", "u", "s", [], ["ALL"])
    with pytest.raises(InvalidInput):
        targets.TgtTarget(runner.LocalRunner(), bstype="sg")


def test_disk_xml_names_secret_by_usage_only():
    info = {"target_iqn": "iqn.2010-10.org.ministack:volume-v1", "target_lun": 1, "target_host": "10.0.0.2",
            "target_port": 3260, "auth_username": "user1"}
    xml = attach.disk_xml("v1", info, "/dev/vdc", initiator="iqn.i:c1", cache="none", io="native")
    disk = ET.fromstring(xml)
    assert disk.get("type") == "network"
    src = disk.find("source")
    assert src.get("protocol") == "iscsi" and src.get("name") == "iqn.2010-10.org.ministack:volume-v1/1"
    assert src.find("host").get("name") == "10.0.0.2" and src.find("initiator/iqn").get("name") == "iqn.i:c1"
    assert src.find("auth").get("username") == "user1"
    assert src.find("auth/secret").attrib == {"type": "iscsi", "usage": "ministack-volume-v1"}
    assert disk.find("target").get("dev") == "vdc" and disk.find("driver").get("cache") == "none"
    secret = ET.fromstring(attach.secret_xml("v1"))
    assert secret.get("private") == "yes" and secret.find("usage/target").text == "ministack-volume-v1"


def test_next_device_and_find_volume_disk():
    info = {"target_iqn": "iqn.2010-10.org.ministack:volume-v1", "target_lun": 1, "target_host": "h",
            "target_port": 3260, "auth_username": "u"}
    dom = (f"<domain><devices><disk type='file'><target dev='vda'/></disk>"
           f"{attach.disk_xml('v1', info, '/dev/vdb')}</devices></domain>")
    assert attach.next_device(dom) == "/dev/vdc"
    assert attach.find_volume_disk(dom, volume_id="v1")[0] == "/dev/vdb"
    assert attach.find_volume_disk(dom, volume_id="v2") == (None, None)
    assert attach.valid_device("/dev/vdc") and attach.valid_device("vdz")
    assert not attach.valid_device("/dev/vda") and not attach.valid_device("/dev/sdb")


def test_runner_redacts_secrets_in_errors():
    with pytest.raises(CommandFailed) as err:
        runner.LocalRunner().run(["sh", "-c", "echo token-XYZ >&2; exit 3", "token-XYZ"], secrets=["token-XYZ"])
    assert "token-XYZ" not in str(err.value) and "token-XYZ" not in " ".join(err.value.argv)
    assert err.value.rc == 3


def test_ssh_runner_quotes_each_argument(monkeypatch):
    seen = {}

    def fake_run(argv, **kw):
        seen["argv"] = argv

        class P:
            returncode, stdout, stderr = 0, "", ""
        return P()

    monkeypatch.setattr("subprocess.run", fake_run)
    runner.SSHRunner(host="b1", user="ops", become=True).run(["lvcreate", "-n", "a b;rm -rf /"])
    assert seen["argv"][-1] == "sudo -n lvcreate -n 'a b;rm -rf /'"
    assert seen["argv"][-3:-1] == ["b1", "--"] and 'User="ops"' in seen["argv"]


def test_ssh_runner_checks_host_keys_against_the_controller_file_unless_told_not_to(monkeypatch):
    seen = []

    def fake_run(argv, **kw):
        seen.append(argv)

        class P:
            returncode, stdout, stderr = 0, "", ""
        return P()

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    runner.runner_for({"connection": "ssh", "address": "10.0.0.5", "known_hosts": "/inv/known_hosts"}).run(["true"])
    runner.runner_for({"connection": "ssh", "address": "10.0.0.5", "host_key_checking": False}).run(["true"])
    checked, unchecked = (" ".join(argv) for argv in seen)
    assert "StrictHostKeyChecking=yes" in checked and "UserKnownHostsFile=/inv/known_hosts" in checked
    assert "ConnectTimeout=10" in checked and "accept-new" not in checked and "/dev/null" not in checked
    assert "StrictHostKeyChecking=no" in unchecked and "UserKnownHostsFile=/dev/null" in unchecked


def test_lvm_names_escape_snapshot_prefix_and_refuse_paths():
    lvm = backends.LVMBackend(runner.LocalRunner(), volume_group="cinder-volumes")
    assert lvm.path("snapshot-1") == "/dev/cinder-volumes/_snapshot-1"
    assert lvm.path("volume-1") == "/dev/cinder-volumes/volume-1"
    with pytest.raises(InvalidInput):
        lvm.path("../etc")
    with pytest.raises(InvalidInput):
        backends.LVMBackend(runner.LocalRunner(), lvm_type="thick")
    with pytest.raises(InvalidInput):
        backends.FileBackend(runner.LocalRunner(), "relative/dir")


def test_initiator_address_is_the_compute_hosts_address():
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block import service

    portal = {"target_ip": "10.0.0.12"}
    assert service.initiator_address(portal, {"host_ip": "10.0.0.11"}) == "10.0.0.11"
    # No host_ip recorded: where the controller reaches the host's libvirtd.
    assert service.initiator_address(portal, {"libvirt_uri": "qemu+libssh://root@10.0.0.11/system?k=v"}) == "10.0.0.11"
    assert service.initiator_address({"target_ip": "127.0.0.1"}, {"host_ip": "10.0.0.11"}) == "127.0.0.1"


def test_an_image_reaches_a_remote_block_host_through_the_runner_and_is_removed_after(tmp_path):
    """The block host sees the controller's image path only when it has that file; otherwise the
    bytes travel through the runner (stdin) to a private temporary file, removed afterwards."""
    image = tmp_path / "img.qcow2"
    image.write_bytes(bytes(range(256)) * 300)

    class ElsewhereRunner(runner.LocalRunner):
        def run(self, argv, **kw):  # a host that does not have the controller's file
            if argv[0] == "stat" and argv[-1] == str(image):
                return runner.Result(1, "", "No such file")
            return super().run(argv, **kw)

    local = backends.FileBackend(runner.LocalRunner(), str(tmp_path))
    with local.image_on_host(str(image)) as seen:
        assert seen == str(image)
    remote = backends.FileBackend(ElsewhereRunner(), str(tmp_path))
    with remote.image_on_host(str(image)) as staged:
        assert staged != str(image) and staged.startswith("/var/tmp/ministack-image-")
        assert open(staged, "rb").read() == image.read_bytes()
        assert oct(os.stat(staged).st_mode & 0o777) == "0o600"
    assert not os.path.exists(staged)
