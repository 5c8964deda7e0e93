"""Fixtures of the backup tests: the machine's Swift (the walkthrough's or one deployed by the
object roles here), a file-backend block host on this machine, and a playbook runner."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.helpers.playbook import run as run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))
PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"
PROXY = "http://127.0.0.1:8080"
AUTH_URL = PROXY + "/auth/v1.0"


def _auth(user, key):
    request = urllib.request.Request(AUTH_URL, headers={"X-Auth-User": user, "X-Auth-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.headers["X-Storage-Url"], resp.headers["X-Auth-Token"]
    except OSError:
        return None


def _known_accounts():
    yield "test:tester", "testing"  # the object tests' accounts
    # the walkthrough's demo:demo (its password beside the local inventory's catalog), from this
    # checkout or from another checkout that deployed the machine's Swift
    secrets = [ROOT / "inventories" / "local" / ".ministack" / "swift-demo-password"]
    secrets += sorted(ROOT.parent.glob("*/inventories/local/.ministack/swift-demo-password"))
    for secret in secrets:
        if secret.exists():
            yield "demo:demo", secret.read_text().strip()


class Swift:
    """Plain HTTP to the proxy (no ministack code): what the format test reads with."""

    def __init__(self, user, key):
        self.user, self.key = user, key
        self.url, self.token = _auth(user, key)

    def request(self, method, path, data=None, headers=None):
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"X-Auth-Token": self.token, **(headers or {})})
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read()

    def get(self, container, name):
        return self.request("GET", f"/{container}/{urllib.parse.quote(name)}")[1]

    def listing(self, container, prefix=""):
        names, marker = [], ""
        while True:
            query = f"?format=json&prefix={urllib.parse.quote(prefix)}&marker={urllib.parse.quote(marker)}"
            try:
                status, body = self.request("GET", f"/{container}{query}")
            except urllib.error.HTTPError as err:
                if err.code == 404:
                    return names
                raise
            page = json.loads(body or b"[]") if status == 200 else []
            if not page:
                return names
            names += [o["name"] for o in page]
            marker = page[-1]["name"]

    def delete(self, container, name=None):
        path = f"/{container}" + (f"/{urllib.parse.quote(name)}" if name else "")
        try:
            self.request("DELETE", path)
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise

    def drop_container(self, container):
        for name in self.listing(container):
            self.delete(container, name)
        self.delete(container)

    def refresh(self):
        """The machine's Swift is shared: when it was redeployed meanwhile, pick a working account."""
        if _auth(self.user, self.key) is None:
            found = next(((u, k) for u, k in _known_accounts() if _auth(u, k)), None)
            assert found, "no known account works on the machine's Swift any more"
            self.user, self.key = found
        self.url, self.token = _auth(self.user, self.key)

    def defaults(self):
        return {"auth": {"auth_url": AUTH_URL, "username": self.user, "password": self.key}}


@pytest.fixture(scope="session")
def swift(tmp_path_factory):
    """The machine's Swift when it answers; else deployed here by the object roles (as the
    object tests do) and stopped afterwards."""

    started = False
    if not any(_auth(u, k) for u, k in _known_accounts()):
        if os.geteuid() != 0:
            pytest.skip("no object store answers on :8080 and deploying one needs root")
        from integration.object.conftest import DEVICES_ROOT, aio_inventory, run_playbook, wait_for_proxy

        workdir = tmp_path_factory.mktemp("swift-for-backups")
        subprocess.run(["umount", DEVICES_ROOT], capture_output=True)
        os.makedirs(DEVICES_ROOT, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3g", "tmpfs", DEVICES_ROOT], check=True)
        inventory = aio_inventory(workdir / "hosts.yml", workdir / "cluster")
        run = run_playbook(workdir, "deploy.yml", inventory=inventory, timeout=1500)
        assert run.rc == 0, run.stdout[-4000:]
        wait_for_proxy()
        started = True
    user, key = next((u, k) for u, k in _known_accounts() if _auth(u, k))
    yield Swift(user, key)
    if started and not os.environ.get("MINISTACK_KEEP_SWIFT"):
        from integration.object.conftest import DEVICES_ROOT, stop_swift

        stop_swift()
        subprocess.run(["umount", DEVICES_ROOT], capture_output=True)


class Play:
    """step.yml through tests/helpers/playbook.py; the run, with the step's result."""

    def __init__(self, workdir, extravars):
        self.workdir = pathlib.Path(workdir)
        self.extravars = dict(extravars)
        self.count = 0

    def __call__(self, step, check=False, diff=False, catalog=None, **margs):
        self.count += 1
        extra = dict(self.extravars, step=step, margs=margs)
        if catalog:
            extra["ministack_catalog"] = catalog
        run = run_playbook(PLAYBOOKS / "step.yml", workdir=self.workdir, extravars=extra, check=check, diff=diff)
        results = run.ordered()
        run.result = results[-1] if results else {"msg": run.stdout[-3000:]}
        run.ok = run.returncode == 0 and not run.result.get("failed")
        return run


@pytest.fixture
def cloud(tmp_path, swift):
    """A catalog with this machine as a file-backend block host, a container of our own."""
    swift.refresh()
    directory = tmp_path / "vols"
    directory.mkdir()
    container = f"bkp-{uuid.uuid4().hex[:8]}"
    play = Play(tmp_path, {"ministack_catalog": str(tmp_path / "catalog.db"), "swift_defaults": swift.defaults()})
    made = play("volume_service", host="localhost@file", backend="file",
                backend_config={"file_directory": str(directory), "file_capacity_gib": 20})
    assert made.ok, made.result.get("msg")
    play.directory, play.container, play.swift, play.tmp = directory, container, swift, tmp_path
    yield play
    swift.drop_container(container)


def fill(path, chunks, seed=1):
    """Write random MiB at the given MiB offsets of a volume file; returns the file's sha256."""
    import random

    rng = random.Random(seed)
    with open(path, "r+b") as handle:
        for mib in chunks:
            handle.seek(mib * 1024 * 1024)
            handle.write(rng.randbytes(1024 * 1024))
    return sha256_of(path)


def sha256_of(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
