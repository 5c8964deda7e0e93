"""An all-in-one Swift deployed by the object roles on this machine, and helpers to run playbooks.

The cluster is the product under test: ministack.cloud.object_host and object_proxy install
Swift 2.38.3 from PyPI, build the rings with ministack.cloud.object_ring and start the
services. Its devices are eight directories on a tmpfs (which keeps the 64 KiB user xattrs
Swift needs; the machine's ext4 does not). It has the storage policies of Swift's own all-in-one
(gold: 3 replicas, default; silver: 2 replicas; ec42: erasure coding 4+2, six fragments) and the
middlewares Swift's functional suite looks for (domain_remap for example.net, etag-quoter,
allow_open_expired, s3api with S3 ACLs).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLAYBOOKS = pathlib.Path(__file__).resolve().parent / "playbooks"
SWIFT_VENV = "/opt/ministack/swift"
DEVICES_ROOT = "/srv/ministack-test-node"
PROXY = "http://127.0.0.1:8080"
AUTH_URL = PROXY + "/auth/v1.0"
# tempauth accounts as Swift's all-in-one sample and its functional tests expect them.
ACCOUNTS = [
    {"account": "admin", "user": "admin", "password": "admin-secret", "roles": [".admin", ".reseller_admin"]},
    {"account": "test", "user": "tester", "password": "testing", "roles": [".admin"]},
    {"account": "test", "user": "tester2", "password": "testing2", "roles": [".admin"]},
    {"account": "test", "user": "tester3", "password": "testing3", "roles": []},
    {"account": "test2", "user": "tester2", "password": "testing2", "roles": [".admin"]},
    {"account": "test5", "user": "tester5", "password": "testing5", "roles": ["service"]},
    {"account": "test", "user": "tester6", "password": "testing6", "roles": [".reseller_admin"]},
]
POLICIES = [
    {"name": "gold", "index": 0, "default": True, "aliases": ["yellow", "orange"]},
    {"name": "silver", "index": 1, "replicas": 2},
    {"name": "ec42", "index": 2, "type": "erasure_coding", "ec_num_data_fragments": 4, "ec_num_parity_fragments": 2},
]
STORAGE_DOMAIN = "example.net"
# What Swift's functional suite expects of the proxy (as its in-process cluster has it).
FUNCTIONAL_PROXY_VARS = {
    "object_proxy_allow_account_management": True,
    "object_proxy_allow_open_expired": True,
    "object_proxy_domain_remap": True,
    "object_proxy_storage_domain": [STORAGE_DOMAIN],
    "object_proxy_s3_acl": True,
}


Run = playbook.Run


def run_playbook(
    workdir: pathlib.Path,
    playbook_name: str,
    *,
    inventory=None,
    extravars=None,
    check=False,
    diff=False,
    timeout=900,
) -> Run:
    path = PLAYBOOKS / playbook_name if not os.path.isabs(playbook_name) else playbook_name
    return playbook.run(path, workdir=workdir, inventory=inventory, extravars=extravars, check=check, diff=diff,
                        timeout=timeout)


def aio_inventory(
    path: pathlib.Path, cluster_dir: pathlib.Path, devices_root: str = DEVICES_ROOT, **extra
) -> pathlib.Path:
    import yaml

    inventory = {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                }
            },
            "vars": {
                "object_cluster_dir": str(cluster_dir),
                "object_host_devices_root": devices_root,
                "object_host_devices": [{"name": f"d{i}"} for i in range(1, 9)],
                "object_storage_policies": POLICIES,
                # Fast passes so that the auditor, replicator and expirer tests finish in seconds.
                "object_host_replicator_interval": 5,
                "object_host_auditor_interval": 5,
                "object_host_expirer_interval": 5,
                **FUNCTIONAL_PROXY_VARS,
                "object_proxy_reseller_prefixes": ["AUTH", "SERVICE"],
                "object_proxy_require_groups": {"SERVICE": "service"},
                "object_proxy_accounts": ACCOUNTS,
                **extra,
            },
            "children": {
                "object": {"hosts": {"localhost": {}}},
                "object_proxy": {"hosts": {"localhost": {}}},
            },
        }
    }
    path.write_text(yaml.safe_dump(inventory))
    return path


def stop_swift() -> None:
    if os.path.exists(f"{SWIFT_VENV}/bin/swift-init"):
        env = dict(os.environ, PATH=f"{SWIFT_VENV}/bin:" + os.environ["PATH"])
        subprocess.run(
            [f"{SWIFT_VENV}/bin/swift-init", "all", "stop"], env=env, capture_output=True, timeout=120
        )
    if os.path.exists("/var/run/rsyncd.pid"):
        subprocess.run(
            "kill $(cat /var/run/rsyncd.pid); rm -f /var/run/rsyncd.pid", shell=True, capture_output=True
        )


def wait_for_proxy(timeout=60) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(PROXY + "/healthcheck", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            raise AssertionError("the proxy does not answer /healthcheck")
        time.sleep(1)


class AIO:
    """The deployed all-in-one: where it is and the runs that made it."""

    def __init__(self, workdir, inventory, cluster_dir, runs):
        self.workdir = workdir
        self.inventory = inventory
        self.cluster_dir = cluster_dir
        self.runs = runs
        self.devices_root = DEVICES_ROOT
        self.auth_url = AUTH_URL

    def swiftclient(self, user="test:tester", key="testing"):
        import swiftclient

        return swiftclient.Connection(authurl=AUTH_URL, user=user, key=key, retries=2)

    def sdk(self, user="test:tester", password="testing"):
        import openstack

        return openstack.connect(
            auth_type="v1password",
            load_yaml_config=False,
            load_envvars=False,
            auth={"auth_url": AUTH_URL, "username": user, "password": password},
        )


@pytest.fixture(scope="session")
def swift_aio(tmp_path_factory):
    """Deploy once per session: a first run, a second (changed=0) and a --check run."""
    if os.geteuid() != 0:
        pytest.skip("the all-in-one deployment installs services and needs root")
    workdir = tmp_path_factory.mktemp("swift-aio")
    cluster_dir = workdir / "cluster"
    stop_swift()
    subprocess.run(["umount", DEVICES_ROOT], capture_output=True)
    os.makedirs(DEVICES_ROOT, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1536m", "tmpfs", DEVICES_ROOT], check=True)
    inventory = aio_inventory(workdir / "hosts.yml", cluster_dir)
    started = time.time()
    first = run_playbook(workdir, "deploy.yml", inventory=inventory)
    first.seconds = time.time() - started
    assert first.rc == 0 and first.failed() == 0, first.stdout[-6000:]
    wait_for_proxy()
    second = run_playbook(workdir, "deploy.yml", inventory=inventory)
    check = run_playbook(workdir, "deploy.yml", inventory=inventory, check=True, diff=True)
    yield AIO(workdir, inventory, cluster_dir, {"first": first, "second": second, "check": check})
    stop_swift()
    subprocess.run(["umount", DEVICES_ROOT], capture_output=True)
