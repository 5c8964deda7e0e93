"""The bad-input matrix (issue 13): generated from every module's argument spec, not hand-picked.

For each option of each module (plugins/modules/*.py ARGUMENT_SPEC and MODULE_KWARGS) the
test tries: a wrong type; empty; null; a negative number, zero, 2**31 and 2**63; a
10,000-character string; control characters, quotes, a newline and ``../``; unicode; an
unknown choice; and each mutually exclusive pair. Each case runs the module's action plugin
in this process (tests/helpers/inproc.py, about a millisecond a call) on a base task that is
otherwise valid, against a world that is real: a SQLite catalog with a flavor, an image, a
network, a keypair, a server group; this machine's libvirtd as a compute host (with the test's
own storage pools) and a file-backend block host (local tgtd).

Every case must give: no exception escaping the plugin (what ansible-playbook shows as a
traceback); when it fails, one message (one line, no traceback) naming the option; and
nothing changed: the catalog (every row of every table, dumped before and after) and the host
(files under the instances, image cache and volume directories; libvirt domains, networks and
pools of this test; tgt targets), listed before and after.

Cases whose value is invalid for the option whatever the module (wrong type, 2**63, a negative
number, an unknown choice, null for a required option, an exclusive pair, control characters in
a name) run for real and must fail. Values that may be legitimate (unicode, quotes, zero,
empty, a long text) run in check mode: they may pass, but never with a traceback or a change.
The object-store modules point at a closed port (no Swift here): every check they make before
the first request is still exercised.
"""

from __future__ import annotations

import glob
import importlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import traceback
import uuid

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import driver  # noqa: E402
from sqlalchemy import select  # noqa: E402

from tests.helpers import guest  # noqa: E402
from tests.helpers.inproc import call  # noqa: E402

from .conftest import COUNTS  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODULES = sorted(pathlib.Path(p).stem for p in glob.glob(str(ROOT / "plugins" / "modules" / "*.py"))
                 if not p.endswith("__init__.py"))
TGT_CONF = "/etc/tgt/conf.d"
CLOSED = "http://127.0.0.1:9/auth/v1.0"  # the discard port: nothing listens
OBJECT_AUTH = {"auth_type": "v1password", "auth": {"auth_url": CLOSED, "username": "mx:mx", "password": "mx-pw"}}

# Names the base tasks use; every one exists in the world (or, for creates, does not yet).
BASE = {
    "aggregate": {"name": "mx-agg"},
    "aggregate_info": {},
    "availability_zone_info": {},
    "compute_service": {"host": "mx-new", "vcpus": 2, "memory_mb": 1024, "local_gb": 10},
    "compute_service_info": {},
    "flavor": {"name": "mx-flv", "ram": 64, "vcpus": 1, "disk": 1},
    "flavor_info": {},
    "hypervisor_info": {},
    "image": {"name": "mx-img2", "filename": "{blank}"},
    "image_info": {},
    "keypair": {"name": "mx-key2", "public_key": "{pubkey}"},
    "keypair_info": {},
    "network": {"name": "mx-net2", "cidr": "10.254.250.0/24"},
    "network_info": {},
    "object": {"container": "mx-c", "name": "mx-o", "data": "x", **OBJECT_AUTH},
    "object_account_info": {**OBJECT_AUTH},
    "object_container": {"name": "mx-c", **OBJECT_AUTH},
    "object_container_info": {**OBJECT_AUTH},
    "object_info": {"container": "mx-c", **OBJECT_AUTH},
    "object_ring": {"path": "{ringdir}", "ring": "object",
                    "devices": [{"ip": "127.0.0.1", "port": 6200, "device": "sdb", "zone": 1, "weight": 100}]},
    "quota": {"instances": 10},
    "quota_info": {},
    "server": {"name": "mx-srv2", "image": "mx-img", "flavor": "mx.nano", "network": "mx-net"},
    "server_action": {"server": "mx-none", "action": "stop"},
    "server_console": {"server": "mx-none"},
    "server_group": {"name": "mx-grp2", "policy": "anti-affinity"},
    "server_group_info": {},
    "server_image": {"name": "mx-snap", "server": "mx-none"},
    "server_info": {},
    "server_volume": {"server": "mx-none", "volume": "mx-none"},
    "volume": {"name": "mx-vol2", "size": 1},
    "volume_info": {},
    "volume_service": {"host": "mx-blk2@file", "backend": "file", "backend_config": {"file_directory": "{voldir}"},
                       "connection": {"connection": "local"}},
    "volume_service_info": {},
    "volume_snapshot": {"name": "mx-snap", "volume": "mx-none"},
    "volume_snapshot_info": {},
    "volume_backup": {"name": "mx-bak", "volume": "mx-none", **OBJECT_AUTH},
    "volume_backup_info": {},
    "volume_backup_record": {"backup": "mx-none"},
    "volume_backup_restore": {"backup": "mx-none", "volume": "mx-none"},
}
# Options where a negative number is a documented value (quota: -1 is unlimited, so -2 is
# still tried) or any number is fine (a seed).
NEGATIVE_OK = {("object_ring", "seed"), ("object_ring", "overload")}
CONTROL = "a\x01b\x7f"
LONG = "x" * 10_000


def option_names(name: str, spec: dict) -> list:
    return [name, *(spec.get("aliases") or [])]


def values_for(module: str, name: str, spec: dict, required: bool) -> list:
    """(label, value, must_fail) cases for one option."""
    kind = spec.get("type", "str")
    cases = [("null", None, required)]
    if kind in ("int", "float"):
        cases += [("wrong type", "abc", True), ("list", [1], True), ("dict", {"a": 1}, True),
                  ("negative", -2, (module, name) not in NEGATIVE_OK), ("zero", 0, False),
                  ("2**31", 2**31, False),
                  ("2**63", 2**63, kind == "int" and (module, name) != ("object_ring", "seed"))]
    elif kind == "bool":
        cases += [("wrong type", "maybe-not", True), ("dict", {"a": 1}, True), ("list", [True], True)]
    elif kind == "dict":
        cases += [("wrong type", "not-a-dict", True), ("list", [1, 2], True), ("empty", {}, False),
                  ("control key", {CONTROL: "mx-value"}, False), ("long value", {"k": LONG}, False),
                  ("unicode", {"ünï": "€😀"}, False), ("nested", {"k": {"deep": [1]}}, False)]
    elif kind == "list":
        cases += [("wrong type", {"a": 1}, True), ("empty", [], False), ("control", [CONTROL], False),
                  ("long", [LONG], False), ("nested", [[1, 2]], False), ("unicode", ["ünï€😀"], False)]
    else:  # str, path, raw
        cases += [("empty", "", required), ("long", LONG, False), ("control", CONTROL, False),
                  ("quotes", "a'\"b`$(id)", False), ("newline", "a\nb", False), ("dotdot", "../../etc/passwd", False),
                  ("unicode", "ünï€😀", False), ("wrong type", {"a": 1}, False), ("list", [1, 2], False)]
        if name in ("name", "host") and kind == "str" and not module.endswith("_info"):
            cases = [(label, value, True if label in ("control", "newline") else must)
                     for label, value, must in cases]
    if spec.get("choices"):
        cases += [("unknown choice", "no-such-choice", True)]
    return cases


# ``catalog`` (module_defaults group ministack.cloud.catalog) says where the catalog is: any
# path is a catalog location, and a new one is created there (even in check mode), so its
# values are not bad input the module could refuse; the matrix would only scatter catalogs.
SKIPPED_OPTIONS = {"catalog"}


def cases_for(module: str) -> list:
    loaded = importlib.import_module(f"ansible_collections.ministack.cloud.plugins.modules.{module}")
    spec = loaded.ARGUMENT_SPEC
    kwargs = getattr(loaded, "MODULE_KWARGS", {})
    out = []
    for name, option in spec.items():
        if name in SKIPPED_OPTIONS:
            continue
        for label, value, must_fail in values_for(module, name, option, bool(option.get("required"))):
            out.append((f"{name}={label}", {name: value}, must_fail, option_names(name, option)))
    for group in kwargs.get("mutually_exclusive", []):
        for i, first in enumerate(group):
            for second in group[i + 1:]:
                pair = {first: "a", second: "b"}
                out.append((f"{first}+{second}=exclusive", pair, True, [first, second]))
    return out


# -------------------------------------------------------------------- the world
def _dump(catalog) -> dict:
    with catalog.read() as tx:
        return {name: sorted(repr(sorted(r.items())) for r in tx.all(select(table)))
                for name, table in sorted(tx.t.__dict__.items()) if hasattr(table, "columns")}


def _files(*roots) -> list:
    out = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for fname in names:
                path = os.path.join(dirpath, fname)
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                out.append((path, st.st_size, oct(st.st_mode)))
    return sorted(out)


class World:
    def __init__(self, work: pathlib.Path):
        self.work = work
        self.tag = uuid.uuid4().hex[:6]
        self.tv = {"ministack_catalog": str(work / "catalog.db"), "ministack_image_store": str(work / "images")}
        self.dirs = {k: work / k for k in ("instances", "cache", "volumes", "rings", "inputs")}
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(work, 0o711)
        self.host = driver.LibvirtHost("qemu:///system", instances_pool=f"ministack-test-mxi-{self.tag}",
                                       instances_path=str(self.dirs["instances"]),
                                       images_pool=f"ministack-test-mxc-{self.tag}", images_path=str(self.dirs["cache"]))
        self.subst = {"{blank}": str(self.dirs["inputs"] / "blank.qcow2"), "{ringdir}": str(self.dirs["rings"]),
                      "{voldir}": str(self.dirs["volumes"]), "{pubkey}": ""}

    def setup(self):
        self.host.ensure_pools()
        subprocess.run(["qemu-img", "create", "-f", "qcow2", self.subst["{blank}"], "16M"], check=True,
                       capture_output=True)
        key = self.dirs["inputs"] / "key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        self.subst["{pubkey}"] = (key.with_suffix(".pub")).read_text().strip()
        steps = [
            ("compute_service", {"host": "mx-cmp", "libvirt_uri": "qemu:///system", "vcpus": 8, "memory_mb": 4096,
                                 "local_gb": 10, "capabilities": {"virt_type": "qemu",
                                                                  "instances_pool": self.host.instances_pool,
                                                                  "images_pool": self.host.images_pool}}),
            ("volume_service", {"host": "mx-blk@file", "backend": "file", "connection": {"connection": "local"},
                                "backend_config": {"file_directory": str(self.dirs["volumes"]),
                                                   "file_capacity_gib": 10}}),
            ("flavor", {"name": "mx.nano", "ram": 64, "vcpus": 1, "disk": 1}),
            ("image", {"name": "mx-img", "filename": self.subst["{blank}"]}),
            ("network", {"name": "mx-net", "cidr": str(guest.free_subnet()), "mode": "isolated"}),
            ("keypair", {"name": "mx-key", "public_key": self.subst["{pubkey}"]}),
            ("server_group", {"name": "mx-grp", "policy": "affinity"}),
            ("aggregate", {"name": "mx-agg0"}),
        ]
        for module, args in steps:
            result = call(module, args, self.tv)
            assert not result.get("failed"), (module, result.get("msg"))
        self.catalog = open_catalog(self.tv["ministack_catalog"])

    def catalog_state(self):
        """The catalog's rows, dumped again only when its files changed (a commit appends to the
        WAL; a check-mode transaction is rolled back and writes nothing)."""
        db = self.tv["ministack_catalog"]
        stamp = tuple((os.stat(f).st_mtime_ns, os.stat(f).st_size) if os.path.exists(f) else None
                      for f in (db, db + "-wal"))
        if stamp != getattr(self, "_stamp", None):
            self._stamp, self._rows = stamp, _dump(self.catalog)
        return self._rows

    def host_state(self, deep: bool = False) -> tuple:
        """libvirt networks, pools and domains of this test, tgt's persisted targets (deep: also
        tgtd's live ones) of this catalog's volumes, and every file under the test's directories."""
        conn = self.host.conn
        ours = ("mx", self.tag)
        nets = sorted(n.name() for n in conn.listAllNetworks(0) if any(t in n.name() for t in ours))
        pools = sorted(p.name() for p in conn.listAllStoragePools(0) if self.tag in p.name())
        with self.catalog.read() as tx:
            server_ids = set(tx.scalars(select(tx.t.servers.c.id)))
            volume_ids = set(tx.scalars(select(tx.t.volumes.c.id)))
        doms = sorted(d.UUIDString() for d in conn.listAllDomains(0) if d.UUIDString() in server_ids)
        conf = sorted(f for f in os.listdir(TGT_CONF) if any(v in f for v in volume_ids)) \
            if os.path.isdir(TGT_CONF) else []
        live = []
        if deep:
            tgt = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"],
                                 capture_output=True, text=True, check=False).stdout
            live = sorted(line for line in tgt.splitlines() if line.startswith("Target")
                          and any(v in line for v in volume_ids))
        return nets, pools, doms, conf, live, _files(*(str(d) for d in self.dirs.values()))

    def teardown(self):
        """Remove what the world made, and whatever a wrongly accepted case made on the host."""
        with self.catalog.read() as tx:
            servers = list(tx.scalars(select(tx.t.servers.c.id).where(tx.t.servers.c.vm_state != "deleted")))
            volumes = list(tx.scalars(select(tx.t.volumes.c.id)))
            nets = list(tx.scalars(select(tx.t.networks.c.id)))
        for module, ids in (("server", servers), ("volume", volumes), ("network", nets)):
            for ident in ids:
                call(module, {"name": ident, "state": "absent"}, self.tv)
        conn = self.host.conn
        for pool_name in (self.host.instances_pool, self.host.images_pool):
            try:
                pool = conn.storagePoolLookupByName(pool_name)
            except libvirt.libvirtError:
                continue
            pool.refresh(0)
            for vol in pool.listVolumes():
                pool.storageVolLookupByName(vol).delete(0)
            if pool.isActive():
                pool.destroy()
            pool.undefine()
        self.catalog.dispose()


@pytest.fixture(scope="module")
def world():
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-matrix-", dir="/var/tmp"))
    w = World(work)
    try:
        w.setup()
        yield w
    finally:
        w.teardown()
        shutil.rmtree(work, ignore_errors=True)


def _fill(value, subst: dict):
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, subst) for v in value]
    return subst.get(value, value) if isinstance(value, str) else value


def _names_option(msg: str, names: list) -> bool:
    low = msg.lower()
    return any(n.lower() in low or n.replace("_", " ").lower() in low for n in names)


@pytest.mark.parametrize("module", MODULES)
def test_bad_input(world, module, monkeypatch):
    # Relative paths in a case land in the test's directory (and count as a host change there).
    monkeypatch.chdir(world.work)
    # A module added later without a base here gets its required options as names that do not
    # exist: its cases are then checked against that clean failure.
    spec = importlib.import_module(f"ansible_collections.ministack.cloud.plugins.modules.{module}").ARGUMENT_SPEC
    default = {k: "mx-none" for k, v in spec.items() if v.get("required")}
    base = _fill(BASE.get(module, default), world.subst)
    base_result = call(module, base, world.tv, check=True)
    assert "exception" not in base_result, base_result
    base_msg = base_result.get("msg") if base_result.get("failed") else None
    problems = []
    cases = cases_for(module)
    t0 = time.monotonic()
    deep_before = world.host_state(deep=True)
    for label, change, must_fail, names in cases:
        args = {**base, **change}
        if not must_fail:  # a null optional option is the option left out
            args = {k: v for k, v in args.items() if not (k in change and change[k] is None)}
        before_db, before_host = world.catalog_state(), world.host_state()
        try:
            result = call(module, args, world.tv, check=not must_fail)
        except Exception as exc:  # a traceback is what the matrix looks for
            problems.append(f"{label}: traceback {type(exc).__name__}: "
                            f"{traceback.format_exception_only(exc)[-1].strip()[:300]}")
            continue
        msg = str(result.get("msg") or "")
        if result.get("failed"):
            echoed = msg
            for value in change.values():  # a message may quote the bad value itself
                echoed = echoed.replace(str(value), "")
            if "Traceback" in msg or "\n" in echoed.strip() or not msg:
                problems.append(f"{label}: failure message not one line: {msg[:300]!r}")
            elif msg != base_msg and not _names_option(msg, names):
                problems.append(f"{label}: message does not name {names[0]}: {msg[:300]!r}")
        elif must_fail and base_msg is None:
            problems.append(f"{label}: accepted (changed={result.get('changed')})")
        if world.catalog_state() != before_db:
            problems.append(f"{label}: the catalog changed")
        if world.host_state() != before_host:
            problems.append(f"{label}: the host changed")
    if world.host_state(deep=True) != deep_before:
        problems.append("the host changed (tgtd's live targets) during this module's cases")
    COUNTS[module] = len(cases)
    print(f"{module}: {len(cases)} cases in {time.monotonic() - t0:.1f} s")
    assert not problems, f"{module}: {len(problems)} of {len(cases)} cases:\n" + "\n".join(problems)
