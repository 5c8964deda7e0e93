"""The all-in-one cluster the roles deploy stores and returns objects (python-swiftclient,
openstacksdk); the roles are idempotent, support check mode and refuse small-xattr devices."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import time

import pytest

from .conftest import DEVICES_ROOT, aio_inventory, run_playbook

pytestmark = pytest.mark.slow


def test_first_run_deploys_every_service(swift_aio):
    first = swift_aio.runs["first"]
    assert first.changed() > 0
    # Every storage service plus the proxy runs (swift-init reports the running ones).
    env = dict(os.environ, PATH="/opt/ministack/swift/bin:" + os.environ["PATH"])
    status = subprocess.run(
        ["/opt/ministack/swift/bin/swift-init", "all", "status"], env=env, capture_output=True, text=True
    )
    for service in (
        "proxy-server",
        "account-server",
        "container-server",
        "object-server",
        "object-replicator",
        "object-auditor",
        "object-updater",
        "container-updater",
        "account-replicator",
        "container-replicator",
        "account-auditor",
        "container-auditor",
        "account-reaper",
    ):
        assert f"{service} running" in status.stdout, status.stdout


def test_second_run_and_check_mode_change_nothing(swift_aio):
    second, check = swift_aio.runs["second"], swift_aio.runs["check"]
    assert second.rc == 0 and second.changed() == 0, second.changed_tasks()
    assert check.rc == 0 and check.changed() == 0, check.changed_tasks()


def test_secrets_stay_out_of_the_output(swift_aio):
    secret = json.loads((swift_aio.cluster_dir / "swift-hash.json").read_text())
    assert oct((swift_aio.cluster_dir / "swift-hash.json").stat().st_mode & 0o777) == "0o600"
    assert len(secret["prefix"]) == 32 and secret["prefix"] != secret["suffix"]
    conf = pathlib.Path("/etc/swift/swift.conf").read_text()
    assert secret["prefix"] in conf and secret["suffix"] in conf
    for run in swift_aio.runs.values():
        assert secret["prefix"] not in run.stdout and secret["suffix"] not in run.stdout
        assert "admin-secret" not in run.stdout and "testing2" not in run.stdout


def test_rings_come_from_object_ring(swift_aio):
    for ring in ("account", "container", "object"):
        builder = json.loads((swift_aio.cluster_dir / f"{ring}.builder.json").read_text())
        assert builder  # the builder state is plain data
        installed = pathlib.Path(f"/etc/swift/{ring}.ring.gz").read_bytes()
        assert installed == (swift_aio.cluster_dir / f"{ring}.ring.gz").read_bytes()
    # Swift's own Ring class loads them and places three replicas on distinct devices.
    out = subprocess.run(
        [
            "/opt/ministack/swift/bin/python",
            "-c",
            "from swift.common.ring import Ring; r = Ring('/etc/swift', ring_name='object');"
            "p, nodes = r.get_nodes('AUTH_test', 'c', 'o'); print(r.replica_count, len({n['device'] for n in nodes}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["3.0", "3"]


def test_swiftclient_round_trip(swift_aio):
    conn = swift_aio.swiftclient()
    conn.put_container("sc-roundtrip")
    small = os.urandom(65536)
    etag = conn.put_object("sc-roundtrip", "small", small)
    assert etag == hashlib.md5(small).hexdigest()
    big = os.urandom(20 * 1024 * 1024)
    conn.put_object("sc-roundtrip", "big", big)
    headers, body = conn.get_object("sc-roundtrip", "small")
    assert body == small and headers["etag"] == etag
    _, body = conn.get_object("sc-roundtrip", "big")
    assert hashlib.md5(body).hexdigest() == hashlib.md5(big).hexdigest()
    # Three replicas on three of the four devices.
    copies = list(pathlib.Path(DEVICES_ROOT).glob("d*/objects/*/*/*/*.data"))
    assert len({p.parts[3] for p in copies}) >= 3


def test_the_services_log_each_request_to_syslog(swift_aio):
    """Swift logs only through syslog: on this machine rsyslog (scripts/daemons.sh) writes it to
    /var/log/syslog, so a request can be traced afterwards in the proxy's and the object server's
    lines (access logs name the path)."""
    start = os.path.getsize("/var/log/syslog")  # only what this test's requests add
    conn = swift_aio.swiftclient()
    container = f"logged-{os.getpid()}-{int(time.time())}"
    conn.put_container(container)
    conn.put_object(container, "traced", b"x")
    wanted = {"proxy-server:": False, "object-server:": False}
    deadline = time.monotonic() + 30
    while not all(wanted.values()) and time.monotonic() < deadline:
        time.sleep(0.5)
        with open("/var/log/syslog", errors="replace") as log:
            log.seek(start)
            for line in log:
                if f"/{container}/traced" in line:
                    for tag in wanted:
                        wanted[tag] = wanted[tag] or tag in line
    assert all(wanted.values()), f"no access log line for /{container}/traced from {wanted} in /var/log/syslog"


def test_openstacksdk_round_trip(swift_aio):
    conn = swift_aio.sdk()
    conn.object_store.create_container(name="sdk-roundtrip")
    data = b"openstacksdk says hello\n" * 100
    conn.object_store.upload_object(container="sdk-roundtrip", name="greeting", data=data)
    assert conn.object_store.download_object("greeting", container="sdk-roundtrip") == data
    meta = conn.object_store.get_object_metadata("greeting", container="sdk-roundtrip")
    assert meta.etag == hashlib.md5(data).hexdigest()
    names = [o.name for o in conn.object_store.objects("sdk-roundtrip")]
    assert names == ["greeting"]


def test_ext4_device_is_refused_with_its_name(swift_aio, tmp_path):
    """The machine's own ext4 keeps only ~4 KiB of xattrs: the role stops before using it."""
    fstype = subprocess.run(
        ["stat", "-f", "-c", "%T", str(tmp_path)], capture_output=True, text=True
    ).stdout.strip()
    if fstype not in ("ext2/ext3", "ext4", "overlayfs"):
        pytest.skip(f"{tmp_path} is on {fstype}, which may keep large xattrs")
    inventory = aio_inventory(
        tmp_path / "hosts.yml", swift_aio.cluster_dir, devices_root=str(tmp_path / "node")
    )
    run = run_playbook(tmp_path, "deploy.yml", inventory=inventory)
    assert run.rc != 0
    failure = run.failures["Refuse devices whose filesystem cannot hold Swift's metadata"][0]
    message = json.dumps(failure)
    assert "Device d1 on localhost is not usable by Swift" in message and "XFS" in message
    # Nothing was started on the refused devices: the cluster still answers as before.
    assert swift_aio.swiftclient().head_account()


def test_objects_survive_a_config_rerun(swift_aio):
    """A re-run of the roles with a changed setting restarts the services and keeps the data."""
    conn = swift_aio.swiftclient()
    conn.put_container("rerun")
    conn.put_object("rerun", "kept", b"still here")
    inventory = aio_inventory(
        swift_aio.workdir / "hosts-workers.yml",
        swift_aio.cluster_dir,
        object_host_auditor_files_per_second=30,
    )
    run = run_playbook(swift_aio.workdir, "deploy.yml", inventory=inventory)
    assert run.rc == 0 and "Configure the account, container and object servers" not in run.failures
    assert "files_per_second = 30" in pathlib.Path("/etc/swift/object-server.conf").read_text()
    deadline = time.time() + 60
    while True:
        try:
            assert swift_aio.swiftclient().get_object("rerun", "kept")[1] == b"still here"
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(1)
