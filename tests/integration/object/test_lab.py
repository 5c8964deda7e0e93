"""Multi-node Swift in the lab: three object hosts in three zones and one proxy, deployed by the
roles over SSH under systemd. Losing a host keeps writes and reads working; a corrupted object
is quarantined by the auditor and restored by replication. The erasure-coded policy (ec42, 4+2)
stores and returns a 20 MiB object with a host stopped."""

from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import time

import pytest

from .conftest import ROOT, run_playbook
from .functest import check_whole_suite, prepare_functest, proxy_redeployer, write_test_conf
from .lab_inventory import object_lab_inventory

# `full` (a separate target, not the test command): 3 min 22 s on an idle 2-core machine, over
# 15 minutes at load 10. Run it with `python -m pytest -m full tests/integration/object/test_lab.py`.
pytestmark = [pytest.mark.lab, pytest.mark.slow, pytest.mark.full]
LAB = os.environ.get("MINISTACK_LAB", "objtest")
ENV = dict(os.environ, MINISTACK_LAB=LAB, CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"))


def _ssh(host, command):
    return subprocess.run(
        ["ssh", "-F", str(ROOT / "lab" / "state" / LAB / "ssh_config"), host, command],
        capture_output=True,
        text=True,
        timeout=60,
    )


# MINISTACK_KEEP_LAB=1: the lab stays up after the tests, and the next run with it set reuses the
# deployed cluster (its work directory is recorded here) when Swift still runs on every host; else
# it deploys. Without it the lab is deployed from its containers' state and taken down at the end.
KEPT = ROOT / "lab" / "state" / LAB / "object-cluster.json"


def _kept_cluster():
    import json

    if not (os.environ.get("MINISTACK_KEEP_LAB") and KEPT.exists()):
        return None
    kept = json.loads(KEPT.read_text())
    if not pathlib.Path(kept["inventory"]).exists():
        return None
    units = {"h1": "swift-object-server", "h2": "swift-object-server", "h3": "swift-object-server",
             "h4": "swift-proxy-server"}
    if any(_ssh(host, f"systemctl is-active {unit}").stdout.strip() != "active" for host, unit in units.items()):
        return None
    return kept


@pytest.fixture(scope="module")
def lab_cluster(tmp_path_factory):
    import json

    import yaml

    subprocess.run(
        [str(ROOT / "lab" / "lab"), "up", "4", "--compute", "0", "--block", "0", "--object", "3"],
        env=ENV,
        check=True,
        capture_output=True,
        timeout=900,
    )
    kept = _kept_cluster()
    if kept:
        work, inventory = pathlib.Path(kept["work"]), pathlib.Path(kept["inventory"])
        print(f"\nreusing the lab cluster deployed in {work}")
        yield {"inventory": inventory, "work": work, "deploy": None, **kept["info"]}
        return
    work = tmp_path_factory.mktemp("swift-lab")
    inventory = work / "hosts.yml"
    info = object_lab_inventory(
        ROOT / "lab" / "state" / LAB / "inventory.yml", inventory, work / "cluster", "h4"
    )
    inv = yaml.safe_load(inventory.read_text())
    inv["all"]["vars"]["object_swift_pip_environment"] = {
        "PIP_CERT": "/etc/ssl/certs/ministack-machine-ca.crt"
    }
    inventory.write_text(yaml.safe_dump(inv))
    assert run_playbook(work, "lab_prepare.yml", inventory=inventory).rc == 0
    started = time.time()
    # On a timeout the helper kills every process of the run (ansible-core's workers too).
    deploy = run_playbook(work, "lab_deploy.yml", inventory=inventory, timeout=3600)
    print(f"\nlab deploy: {time.time() - started:.0f} s (rc {deploy.rc}), load {os.getloadavg()}")
    assert deploy.rc == 0, deploy.stdout[-5000:]
    if os.environ.get("MINISTACK_KEEP_LAB"):
        KEPT.write_text(json.dumps({"work": str(work), "inventory": str(inventory), "info": info}))
    yield {"inventory": inventory, "work": work, "deploy": deploy, **info}
    if not os.environ.get("MINISTACK_KEEP_LAB"):
        KEPT.unlink(missing_ok=True)
        subprocess.run([str(ROOT / "lab" / "lab"), "down"], env=ENV, capture_output=True, timeout=300)


def _client(lab):
    import swiftclient

    return swiftclient.Connection(
        authurl=f"http://{lab['proxy_ip']}:8080/auth/v1.0",
        user="test:tester",
        key="testing",
        retries=1,
        timeout=20,
    )


def test_services_run_under_systemd_and_rerun_is_unchanged(lab_cluster):
    for host in ("h1", "h2", "h3"):
        out = _ssh(
            host, "systemctl is-active swift-object-server swift-object-replicator swift-object-auditor rsync"
        )
        assert out.stdout.split() == ["active"] * 4, (host, out.stdout)
    assert _ssh("h4", "systemctl is-active swift-proxy-server memcached").stdout.split() == [
        "active",
        "active",
    ]
    again = run_playbook(lab_cluster["work"], "deploy.yml", inventory=lab_cluster["inventory"])
    assert again.rc == 0 and again.changed() == 0, again.changed_tasks()


def test_one_host_down_writes_and_reads_still_work(lab_cluster):
    conn = _client(lab_cluster)
    conn.put_container("lab")
    before = os.urandom(100000)
    conn.put_object("lab", "before", before)
    subprocess.run(
        ["podman", "stop", "-t", "5", f"ministack-{LAB}-h2"], env=ENV, check=True, capture_output=True
    )
    try:
        during = os.urandom(200000)
        assert conn.put_object("lab", "during", during) == hashlib.md5(during).hexdigest()
        assert conn.get_object("lab", "before")[1] == before
        assert conn.get_object("lab", "during")[1] == during
    finally:
        subprocess.run(["podman", "start", f"ministack-{LAB}-h2"], env=ENV, check=True, capture_output=True)


def test_ec_container_stores_and_returns_20_mib_with_a_host_stopped(lab_cluster):
    conn = _client(lab_cluster)
    conn.put_container("lab-ec", headers={"X-Storage-Policy": "ec42"})
    before = os.urandom(20 * 1024 * 1024)
    conn.put_object("lab-ec", "before", before)
    subprocess.run(
        ["podman", "stop", "-t", "5", f"ministack-{LAB}-h3"], env=ENV, check=True, capture_output=True
    )
    try:
        during = os.urandom(20 * 1024 * 1024)
        started = time.time()
        assert conn.put_object("lab-ec", "during", during) == hashlib.md5(during).hexdigest()
        put_seconds = time.time() - started
        # h3 held two fragments of "before": the proxy decodes it from the other four.
        assert hashlib.md5(conn.get_object("lab-ec", "before")[1]).digest() == hashlib.md5(before).digest()
        assert hashlib.md5(conn.get_object("lab-ec", "during")[1]).digest() == hashlib.md5(during).digest()
        print(f"\nEC 4+2, h3 stopped: 20 MiB PUT {put_seconds:.1f} s, both GETs byte-exact")
    finally:
        subprocess.run(["podman", "start", f"ministack-{LAB}-h3"], env=ENV, check=True, capture_output=True)
    # All six fragment indexes of "during" went to the hosts that were running.
    import json

    secret = json.loads((lab_cluster["work"] / "cluster" / "swift-hash.json").read_text())
    name_hash = hashlib.md5(f"{secret['prefix']}/AUTH_test/lab-ec/during{secret['suffix']}".encode()).hexdigest()
    frags = []
    for host in ("h1", "h2"):
        frags += _ssh(host, f"find /srv/node -path '*/objects-2/*/{name_hash}/*' -name '*.data'").stdout.split()
    assert sorted({int(pathlib.Path(f).name.split("#")[1]) for f in frags}) == [0, 1, 2, 3, 4, 5], frags


def test_auditor_quarantines_and_replication_restores(lab_cluster):
    conn = _client(lab_cluster)
    conn.put_container("audit")
    body = os.urandom(123457)
    conn.put_object("audit", "victim", body)
    find = "find /srv/node -path '*/objects/*' -name '*.data' -size 123457c"
    path = _ssh("h1", find).stdout.split()
    host = "h1"
    if not path:
        host, path = "h3", _ssh("h3", find).stdout.split()
    path = path[0]
    good = hashlib.md5(body).hexdigest()
    _ssh(host, f"python3 -c \"f=open('{path}','r+b'); f.seek(100); f.write(b'CORRUPT'); f.close()\"")
    deadline, quarantined, restored = time.time() + 180, False, False
    while time.time() < deadline and not restored:
        time.sleep(3)
        quarantined = quarantined or bool(
            _ssh(host, f"ls /srv/node/*/quarantined/objects/*/{pathlib.Path(path).name}").stdout
        )
        restored = quarantined and _ssh(host, f"md5sum {path}").stdout.split()[:1] == [good]
    assert quarantined, "the auditor did not quarantine the corrupted file"
    assert restored, "replication did not restore the good copy"
    assert conn.get_object("audit", "victim")[1] == body


def test_functional_suite_on_the_lab(lab_cluster):
    """Swift's whole functional suite (s3api and tests.py included) against the lab's proxy:
    gold/silver/ec42 over three hosts, domain_remap, etag-quoter, allow_open_expired; then the tests
    that need allow_open_expired / allow_account_management off, against the proxy redeployed with
    them off, and back (functest.check_whole_suite)."""
    prepare_functest(s3=True)
    conf = write_test_conf(lab_cluster["work"] / "test.conf", f"http://{lab_cluster['proxy_ip']}:8080")
    check_whole_suite(conf, lab_cluster["work"], proxy_redeployer(lab_cluster["work"], lab_cluster["inventory"]))
