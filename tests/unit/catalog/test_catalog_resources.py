"""The API resources' rules, run as the action base runs them (one transaction per task)."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.action_base import CatalogAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import (
    Conflict,
    InvalidInput,
    NotFound,
    OverQuota,
    claim,
    default_project,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.aggregates import (
    Aggregate,
    AvailabilityZoneInfo,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.compute_services import (
    ComputeService,
    ComputeServiceInfo,
    HypervisorInfo,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.flavors import (
    Flavor,
    FlavorInfo,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.quotas import Quota, QuotaInfo
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.resources.server_groups import (
    ServerGroup,
)
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.keypairs import Keypair
from sqlalchemy import insert, select


def apply(catalog, resource_class, check=False, **params):
    resource = resource_class(params, check_mode=check)
    return CatalogAction._execute(catalog, resource, check)


def add_server(catalog, name, host=None, flavor_id=None, vcpus=1, memory_mb=256):
    with catalog.begin() as tx:
        project = default_project(tx)["id"]
        tx.execute(insert(tx.t.servers), {
            "id": f"id-{name}", "name": name, "project_id": project, "host": host, "flavor_id": flavor_id,
            "vm_state": "active", "status": "ACTIVE", "power_state": 1, "vcpus": vcpus, "memory_mb": memory_mb,
            "created_at": tx.now()})
        if host:
            claim(tx, host, f"id-{name}", vcpus, memory_mb, 1)


def register(catalog, host, **extra):
    params = {"host": host, "vcpus": 4, "memory_mb": 4096, "local_gb": 40, **extra}
    return apply(catalog, ComputeService, **params)


# -- flavors --------------------------------------------------------------------------


def test_flavor_updates_in_place_and_keeps_its_id(catalog):
    created = apply(catalog, Flavor, name="f1", id="77", ram=256, vcpus=1, disk=1, extra_specs={"a": "1", "b": True})
    assert created["changed"] and created["flavor"]["extra_specs"] == {"a": "1", "b": "true"}
    same = apply(catalog, Flavor, name="f1", id="77", ram=256, vcpus=1, disk=1, extra_specs={"a": 1, "b": "true"})
    assert not same["changed"]
    bigger = apply(catalog, Flavor, name="f1", ram=512, extra_specs={"a": "2"})
    assert bigger["changed"] and bigger["flavor"]["id"] == "77" and bigger["flavor"]["ram"] == 512
    assert bigger["flavor"]["extra_specs"] == {"a": "2"}
    assert bigger["diff"]["before"]["ram"] == 256 and bigger["diff"]["after"]["ram"] == 512
    with pytest.raises(Conflict, match="a flavor's id never changes"):
        apply(catalog, Flavor, name="f1", id="78")


def test_flavor_size_is_fixed_while_servers_use_it(catalog):
    apply(catalog, Flavor, name="f1", id="77", ram=256, vcpus=1, disk=1)
    add_server(catalog, "web1", flavor_id="77")
    with pytest.raises(Conflict, match=r"Flavor f1 is used by servers web1: its ram, disk cannot change"):
        apply(catalog, Flavor, name="f1", ram=512, disk=5)
    # what does not resize servers may still change
    assert apply(catalog, Flavor, name="f1", description="small")["changed"]


def test_flavor_check_mode_reports_and_keeps_nothing(catalog):
    result = apply(catalog, Flavor, check=True, name="f2", ram=256, vcpus=1, disk=1)
    assert result["changed"] and result["flavor"]["name"] == "f2"
    with catalog.read() as tx:
        assert FlavorInfo({"name": "f2"}).run(tx)["flavors"] == []


def test_flavor_info_filters(catalog):
    with catalog.read() as tx:
        names = [f["name"] for f in FlavorInfo({"ram": ">=4096"}).run(tx)["flavors"]]
        assert names == ["m1.medium", "m1.large", "m1.xlarge"]
        with pytest.raises(InvalidInput, match="ram: must be a number"):
            FlavorInfo({"ram": "lots"}).run(tx)


# -- aggregates and zones ---------------------------------------------------------------


def test_one_zone_per_host(catalog):
    register(catalog, "c1")
    register(catalog, "c2")
    apply(catalog, Aggregate, name="a1", availability_zone="az1", hosts=["c1"])
    apply(catalog, Aggregate, name="ssd", metadata={"SSD": True}, hosts=["c1", "c2"])  # no zone: fine
    apply(catalog, Aggregate, name="a2", availability_zone="az2", hosts=["c2"])
    with pytest.raises(Conflict, match=r"Cannot add host to aggregate \d+\. Reason: One or more hosts already in "
                                       r"availability zone\(s\) \['az1'\]\."):
        apply(catalog, Aggregate, name="a2", hosts=["c1"], purge_hosts=False)
    with pytest.raises(Conflict, match=r"Cannot update aggregate \d+\. Reason: .*\['az1'\]"):
        apply(catalog, Aggregate, name="ssd", availability_zone="az2")
    with catalog.read() as tx:
        zones = {z["name"]: sorted(z["hosts"]) for z in AvailabilityZoneInfo({"kind": ["compute"]}).run(tx)[
            "availability_zones"]}
    assert zones == {"az1": ["c1"], "az2": ["c2"]}


def test_zone_of_a_host_with_servers_cannot_change(catalog):
    register(catalog, "c1")
    add_server(catalog, "web1", host="c1")
    with pytest.raises(Conflict, match="host c1 has 1 server\\(s\\) in availability zone nova"):
        apply(catalog, Aggregate, name="a1", availability_zone="az1", hosts=["c1"])
    apply(catalog, Aggregate, name="a1", hosts=["c1"])  # joining a zone-less aggregate is fine


def test_aggregate_hosts_purge_and_zone_removal(catalog):
    for host in ("c1", "c2", "c3"):
        register(catalog, host)
    apply(catalog, Aggregate, name="a1", availability_zone="az1", hosts=["c1", "c2"])
    kept = apply(catalog, Aggregate, name="a1", hosts=["c3"], purge_hosts=False)
    assert kept["aggregate"]["hosts"] == ["c1", "c2", "c3"]
    purged = apply(catalog, Aggregate, name="a1", hosts=["c3"])
    assert purged["aggregate"]["hosts"] == ["c3"]
    unzoned = apply(catalog, Aggregate, name="a1", availability_zone="")
    assert unzoned["changed"] and unzoned["aggregate"]["availability_zone"] is None
    with pytest.raises(NotFound, match="Compute host c9 could not be found"):
        apply(catalog, Aggregate, name="a1", hosts=["c9"])
    with pytest.raises(InvalidInput, match="availability_zone: 'a:b' is not a valid zone name"):
        apply(catalog, Aggregate, name="a1", availability_zone="a:b")
    with pytest.raises(InvalidInput, match="metadata: must not hold availability_zone"):
        apply(catalog, Aggregate, name="a1", metadata={"availability_zone": "x"})
    assert apply(catalog, Aggregate, name="a1", state="absent")["changed"]
    assert not apply(catalog, Aggregate, name="a1", state="absent")["changed"]


# -- keypairs ---------------------------------------------------------------------------


@pytest.fixture
def pubkey(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@a", "-f", str(tmp_path / "k")], check=True)
    return (tmp_path / "k.pub").read_text()


def test_keypair_compares_normalised_keys(catalog, pubkey, tmp_path):
    first = apply(catalog, Keypair, name="k", public_key=pubkey)
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "k.pub")], capture_output=True,
                         text=True, check=True).stdout
    assert first["keypair"]["fingerprint"] == out.split()[1].removeprefix("MD5:")
    kind, body, _comment = pubkey.split()
    assert not apply(catalog, Keypair, name="k", public_key=f"  {kind}   {body} another-comment\n")["changed"]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k2")], check=True)
    other = (tmp_path / "k2.pub").read_text()
    with pytest.raises(Conflict, match="already exists with a different public key"):
        apply(catalog, Keypair, name="k", public_key=other)
    replaced = apply(catalog, Keypair, name="k", public_key=other, state="replace")
    assert replaced["changed"] and replaced["keypair"]["id"] == first["keypair"]["id"]
    with pytest.raises(InvalidInput, match="state: replace needs public_key"):
        apply(catalog, Keypair, name="k", state="replace")


def test_generated_key_is_handed_back_once_in_a_private_file(catalog, tmp_path):
    path = tmp_path / "gen.key"
    resource = Keypair({"name": "gen", "private_key_file": str(path), "key_algorithm": "ed25519"})
    made = CatalogAction._execute(catalog, resource, False)
    assert resource.hide_result and made["keypair"]["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY")
    assert "private_key" not in made["diff"]["after"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[1] == made["keypair"]["public_key"].split()[1]
    again = apply(catalog, Keypair, name="gen")
    assert not again["changed"] and "private_key" not in again["keypair"]
    with catalog.read() as tx:
        assert "PRIVATE" not in repr(tx.all(select(tx.t.keypairs)))


def test_key_file_is_removed_when_the_transaction_fails(catalog, tmp_path, monkeypatch):
    path = tmp_path / "gen.key"
    resource = Keypair({"name": "gen", "private_key_file": str(path)})
    original = Keypair.find
    calls = {"n": 0}

    def failing_find(self, tx):
        calls["n"] += 1
        if calls["n"] == 2:  # after create(): as if the catalog refused the write
            raise Conflict("simulated failure")
        return original(self, tx)

    monkeypatch.setattr(Keypair, "find", failing_find)
    with pytest.raises(Conflict):
        CatalogAction._execute(catalog, resource, False)
    assert not path.exists()
    monkeypatch.setattr(Keypair, "find", original)
    with catalog.read() as tx:
        assert tx.all(select(tx.t.keypairs)) == []


def test_keypair_quota(catalog, pubkey):
    apply(catalog, Quota, key_pairs=1)
    apply(catalog, Keypair, name="k1", public_key=pubkey)
    with pytest.raises(OverQuota, match=r"^Quota exceeded, too many key pairs\.$"):
        apply(catalog, Keypair, name="k2")


# -- quotas -----------------------------------------------------------------------------


def test_quota_limits_usage_and_reset(catalog):
    register(catalog, "c1")
    add_server(catalog, "web1", host="c1", vcpus=2)
    set_ = apply(catalog, Quota, cores=8, instances=5)
    assert set_["changed"] and set_["quotas"]["cores"] == 8 and set_["quotas"]["project"] == "admin"
    assert not apply(catalog, Quota, cores=8)["changed"]
    with pytest.raises(Conflict, match=r"cores: Quota limit 1 for cores must be greater than or equal to already "
                                       r"used and reserved 2\."):
        apply(catalog, Quota, cores=1)
    with catalog.read() as tx:
        info = QuotaInfo({}).run(tx)
    assert info["usage"]["cores"] == 2 and info["usage"]["instances"] == 1
    assert apply(catalog, Quota, state="absent")["changed"]
    assert not apply(catalog, Quota, state="absent")["changed"]
    apply(catalog, Quota, cores=20)  # an override equal to the default
    assert not apply(catalog, Quota, state="absent")["changed"]


def test_over_quota_messages(catalog):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import quotas

    apply(catalog, Quota, cores=2, volumes=0)
    with catalog.begin() as tx:
        project = default_project(tx)["id"]
        with pytest.raises(OverQuota, match=r"^Quota exceeded for cores: Requested 4, but already used 0 of 2 cores$"):
            quotas.check(tx, project, instances=1, cores=4, ram=512)
        with pytest.raises(OverQuota, match=r"Maximum number of volumes allowed \(0\) exceeded for quota 'volumes'\."):
            quotas.check(tx, project, volumes=1, gigabytes=1)


# -- compute services and hypervisors ----------------------------------------------------


def test_compute_service_enable_disable(catalog):
    created = register(catalog, "c1")
    svc = created["compute_service"]
    assert (svc["status"], svc["zone"], svc["cpu_allocation_ratio"], svc["reserved_host_memory_mb"]) == (
        "enabled", "nova", 4.0, 512)
    with pytest.raises(InvalidInput, match="disabled_reason: only applies to a disabled service"):
        apply(catalog, ComputeService, host="c1", disabled_reason="x")
    off = apply(catalog, ComputeService, host="c1", enabled=False, disabled_reason="disk swap")
    assert off["changed"] and off["compute_service"]["status"] == "disabled"
    assert not apply(catalog, ComputeService, host="c1", enabled=False)["changed"]  # keeps the reason
    on = apply(catalog, ComputeService, host="c1", enabled=True)
    assert on["compute_service"]["disabled_reason"] is None
    with pytest.raises(InvalidInput, match="vcpus: required to register compute host c2"):
        apply(catalog, ComputeService, host="c2", memory_mb=1024, local_gb=1)
    with pytest.raises(InvalidInput, match="reserved_host_memory_mb: 512 leaves nothing of memory_mb 512"):
        apply(catalog, ComputeService, host="c2", vcpus=1, memory_mb=512, local_gb=1)


def test_compute_service_capacity_and_deletion_respect_servers(catalog):
    register(catalog, "c1")
    apply(catalog, Aggregate, name="a1", hosts=["c1"])
    add_server(catalog, "web1", host="c1", memory_mb=2048)
    with pytest.raises(Conflict, match="memory_mb: host c1 would offer 1536 memory_mb to servers but they already "
                                       "hold 2048"):
        apply(catalog, ComputeService, host="c1", memory_mb=2048)
    with pytest.raises(Conflict, match="Compute service c1 has 1 server"):
        apply(catalog, ComputeService, host="c1", state="absent")
    with catalog.read() as tx:
        hyper = HypervisorInfo({}).run(tx)
        services = ComputeServiceInfo({"binary": "nova-compute"}).run(tx)["compute_services"]
    h = hyper["hypervisors"][0]
    assert (h["memory_mb_used"], h["free_ram_mb"], h["running_vms"], h["aggregates"]) == (2560, 1536, 1, ["a1"])
    assert hyper["statistics"]["count"] == 1 and [s["host"] for s in services] == ["c1"]


def test_compute_service_forced_down_and_service_down_time(catalog):
    from datetime import timedelta

    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog.hosts import (
        host_states,
        touch_service,
    )

    register(catalog, "c1")
    with catalog.begin() as tx:
        touch_service(tx, "c1")  # reached just now
    state = apply(catalog, ComputeService, host="c1")["compute_service"]
    assert (state["state"], state["is_forced_down"]) == ("up", False)
    # openstack compute service set --down: down at once, though the host answered just now
    down = apply(catalog, ComputeService, host="c1", forced_down=True)
    assert down["changed"] and (down["compute_service"]["state"], down["compute_service"]["is_forced_down"]) == (
        "down", True)
    assert down["diff"]["after"]["is_forced_down"] is True
    assert not apply(catalog, ComputeService, host="c1", forced_down=True)["changed"]
    assert not apply(catalog, ComputeService, host="c1")["changed"]  # not given: kept
    with catalog.read() as tx:
        states = {s["host"]: s["up"] for s in host_states(tx)}
    assert states == {"c1": False}  # the scheduler's ComputeFilter sees it down
    checked = apply(catalog, ComputeService, check=True, host="c1", forced_down=False)
    assert checked["changed"]
    with catalog.read() as tx:  # check mode wrote nothing
        assert ComputeServiceInfo({"host": "c1"}).run(tx)["compute_services"][0]["is_forced_down"] is True
    up = apply(catalog, ComputeService, host="c1", forced_down=False)
    assert up["changed"] and up["compute_service"]["state"] == "up"
    # Without a contact for longer than service_down_time (Nova's 60 s), the service is down.
    with catalog.begin() as tx:
        touch_service(tx, "c1", tx.now() - timedelta(seconds=61))
    assert apply(catalog, ComputeService, host="c1")["compute_service"]["state"] == "down"
    with catalog.read() as tx:
        listed = ComputeServiceInfo({"host": "c1", "service_down_time": 120}).run(tx)["compute_services"]
    assert listed[0]["state"] == "up"


def test_compute_service_info_lists_the_controller_like_the_seed(catalog):
    register(catalog, "c1")
    with catalog.read() as tx:
        rows = ComputeServiceInfo({}).run(tx)["compute_services"]
    assert [(r["binary"], r["zone"]) for r in rows] == [
        ("nova-conductor", "internal"), ("nova-scheduler", "internal"), ("nova-compute", "nova")]
    assert rows[0]["state"] == "up"


def test_deleting_a_service_takes_its_host_out_of_aggregates(catalog):
    register(catalog, "c1")
    apply(catalog, Aggregate, name="a1", availability_zone="az1", hosts=["c1"])
    assert apply(catalog, ComputeService, host="c1", state="absent")["changed"]
    assert apply(catalog, Aggregate, name="a1")["aggregate"]["hosts"] == []


# -- server groups ----------------------------------------------------------------------


def test_server_group_rules_and_members(catalog):
    made = apply(catalog, ServerGroup, name="g", policy="anti-affinity", rules={"max_server_per_host": "2"})
    assert made["server_group"]["rules"] == {"max_server_per_host": 2}
    assert not apply(catalog, ServerGroup, name="g", policy="anti-affinity", rules={"max_server_per_host": 2})[
        "changed"]
    with pytest.raises(InvalidInput, match="rules: unknown rule 'x'"):
        apply(catalog, ServerGroup, name="g", rules={"x": 1})
    with pytest.raises(InvalidInput, match="policy: required to create server group h"):
        apply(catalog, ServerGroup, name="h")
    changed = apply(catalog, ServerGroup, name="g", policy="soft-affinity")
    assert changed["server_group"]["policy"] == "soft-affinity" and changed["server_group"]["rules"] == {}
    with catalog.begin() as tx:
        tx.execute(insert(tx.t.server_group_members), {"group_id": made["server_group"]["id"], "server_id": "s1"})
    with pytest.raises(Conflict, match="has 1 member\\(s\\); its policy and rules cannot change"):
        apply(catalog, ServerGroup, name="g", policy="affinity")


def test_server_group_members_quota_is_per_group(catalog):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import quotas

    apply(catalog, Quota, server_group_members=1)
    full = apply(catalog, ServerGroup, name="full", policy="affinity")["server_group"]["id"]
    empty = apply(catalog, ServerGroup, name="empty", policy="affinity")["server_group"]["id"]
    with catalog.begin() as tx:
        tx.execute(insert(tx.t.server_group_members), {"group_id": full, "server_id": "s1"})
        project = default_project(tx)["id"]
        quotas.check(tx, project, group_id=empty, server_group_members=1)
        with pytest.raises(OverQuota, match=r"^Quota exceeded, too many servers in group$"):
            quotas.check(tx, project, group_id=full, server_group_members=1)
