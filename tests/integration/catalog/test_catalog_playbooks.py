"""The issue's "Done when": real playbooks through ansible-runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib
import subprocess
import threading

import yaml
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import aggregates, open_catalog
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import quotas as quota_lib
from sqlalchemy import select

ROOT = pathlib.Path(__file__).resolve().parents[3]
SEED_IDS = {"1", "2", "3", "4", "5", "20", "10"}


def md5_fingerprint(pub_file) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(pub_file)], check=True, capture_output=True,
                         text=True).stdout
    return out.split()[1].removeprefix("MD5:")


def catalog_state(url) -> dict:
    catalog = open_catalog(url)
    with catalog.read() as tx:
        t = tx.t
        project = tx.scalar(select(t.projects.c.id).where(t.projects.c.name == "admin"))
        return {
            "flavors": {r["id"]: r for r in tx.all(select(t.flavors))},
            "specs": tx.all(select(t.flavor_extra_specs)),
            "aggregates": aggregates(tx),
            "keypairs": tx.all(select(t.keypairs)),
            "services": tx.all(select(t.compute_services)),
            "quotas": quota_lib.limits(tx, project),
        }


def seed(play, url, key_dir, **kwargs):
    return play("seed_catalog.yml", {"ministack_catalog": url, "key_dir": str(key_dir)}, **kwargs)


def test_seed_playbook_changes_once_then_never(play, catalog_url, key_dir):
    first = seed(play, catalog_url, key_dir)
    assert first.rc == 0, first.stdout
    flavors = first.result("Flavors")["results"]
    # The six seed flavors exist from the first migration; only m1.tinier is new.
    assert {r["item"]["id"]: r["changed"] for r in flavors} == {i: i == "10" for i in
                                                                ["1", "2", "3", "4", "5", "20", "10"]}
    tinier = next(r["flavor"] for r in flavors if r["item"]["id"] == "10")
    assert (tinier["id"], tinier["name"], tinier["ram"], tinier["disk"], tinier["vcpus"], tinier["is_public"],
            tinier["rxtx_factor"], tinier["swap"], tinier["ephemeral"]) == ("10", "m1.tinier", 256, 2, 1, True,
                                                                            1.0, 0, 0)
    for task in ("SSD flavor property", "Compute host", "Aggregate with SSD=true in az1", "Keypair", "Quotas"):
        assert first.result(task)["changed"] is True, task
    agg = first.result("Aggregate with SSD=true in az1")["aggregate"]
    assert (agg["availability_zone"], agg["metadata"], agg["hosts"]) == ("az1", {"SSD": "true"}, ["host1"])
    assert first.result("Keypair")["keypair"]["fingerprint"] == md5_fingerprint(key_dir / "id.pub")
    zones = {z["name"]: z for z in first.result("Zones")["availability_zones"]}
    assert set(zones) == {"az1"} and list(zones["az1"]["hosts"]) == ["host1"]
    listed = [f["id"] for f in first.result("Flavor list")["flavors"]]
    assert listed == sorted(SEED_IDS)  # sorted by id as text, as `openstack flavor list`

    second = seed(play, catalog_url, key_dir)
    assert second.rc == 0 and second.changed() == 0, second.stdout

    state = catalog_state(catalog_url)
    assert set(state["flavors"]) == SEED_IDS
    assert state["flavors"]["4"]["id"] == "4"  # updated in place, id kept
    assert [(s["flavor_id"], s["key"], s["value"]) for s in state["specs"]] == [("4", "SSD", "true")]
    assert len(state["aggregates"]) == 1
    assert state["aggregates"][0]["metadata"] == {"SSD": "true", "availability_zone": "az1"}
    assert len(state["keypairs"]) == 1 and "me@test" in state["keypairs"][0]["public_key"]
    assert {k: state["quotas"][k] for k in ("instances", "cores", "volumes", "gigabytes", "ram")} == {
        "instances": 20, "cores": 40, "volumes": 20, "gigabytes": 500, "ram": 51200}


def test_check_mode_writes_nothing_and_shows_the_diff(play, catalog_url, key_dir):
    checked = seed(play, catalog_url, key_dir, check=True, diff=True)
    assert checked.rc == 0, checked.stdout
    assert checked.changed() == 6  # what a real run would change (flavors loop counts once)
    quota_diff = checked.result("Quotas")["diff"]
    assert quota_diff["before"]["cores"] == 20 and quota_diff["after"]["cores"] == 40
    agg_diff = checked.result("Aggregate with SSD=true in az1")["diff"]
    assert agg_diff["before"] == {} and agg_diff["after"]["availability_zone"] == "az1"
    state = catalog_state(catalog_url)
    assert set(state["flavors"]) == SEED_IDS - {"10"}
    assert state["specs"] == [] and state["aggregates"] == [] and state["keypairs"] == []
    assert state["services"] == [] and state["quotas"] == quota_lib.DEFAULTS

    # After a real run, a check run that would change a quota reports it and still writes nothing.
    assert seed(play, catalog_url, key_dir).rc == 0
    again = play("seed_catalog.yml", {"ministack_catalog": catalog_url, "key_dir": str(key_dir)}, check=True,
                 diff=True)
    assert again.changed() == 0
    assert catalog_state(catalog_url)["quotas"]["cores"] == 40


def test_bad_input_fails_with_one_message_and_writes_nothing(play, catalog_url, key_dir, tmp_path):
    assert seed(play, catalog_url, key_dir).rc == 0
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_dir / "other")], check=True)
    before = catalog_state(catalog_url)
    run = play("bad_input.yml", {"ministack_catalog": catalog_url, "key_dir": str(key_dir)})
    assert run.rc == 0, run.stdout  # every task failed_when: false
    messages = {task: results[0]["msg"] for task, results in run.results.items() if task != "Gathering Facts"}
    assert all(results[0].get("changed") is False for results in run.results.values())
    assert messages == {
        "Negative ram": "ram: must be at least 1 MiB, got -5",
        "Missing vcpus on create": "vcpus: required to create flavor m1.broken (give ram, vcpus and disk; "
                                   "missing: vcpus)",
        "Flavor id that exists": "Flavor with ID 1 already exists (it is named m1.tiny).",
        "Unknown host among known ones": "Compute host nohost could not be found. Register it first with "
                                         "ministack.cloud.compute_service.",
        "Host already in another zone": "Cannot add host to aggregate (new). Reason: One or more hosts already in "
                                        "availability zone(s) ['az1'].",
        "Invalid public key": "public_key: Keypair data is invalid: the key is not valid base64",
        "Different key under an existing name": messages["Different key under an existing name"],
        "Quota below -1": "cores: must be at least -1, got -7",
        "Unknown project": "No project with a name or ID of 'nosuchproject' exists.",
        "Wrong type": messages["Wrong type"],
        "Rules on an affinity group": "rules: only the anti-affinity policy takes rules, not affinity",
    }
    assert messages["Different key under an existing name"].startswith(
        "Key pair 'mykeypair' already exists with a different public key")
    assert messages["Different key under an existing name"].endswith("Use state: replace to replace it.")
    assert "vcpus" in messages["Wrong type"] and "int" in messages["Wrong type"]
    assert all("\n" not in m for m in messages.values())
    assert catalog_state(catalog_url) == before


def test_two_seed_playbooks_at_once_leave_a_consistent_catalog(play, catalog_url, key_dir):
    runs = []
    threads = [threading.Thread(target=lambda: runs.append(seed(play, catalog_url, key_dir))) for _run in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert [r.rc for r in runs] == [0, 0], [r.stdout for r in runs]
    # Each change was made by exactly one of the two runs.
    assert sum(r.changed() for r in runs) == 6
    state = catalog_state(catalog_url)
    assert set(state["flavors"]) == SEED_IDS
    assert len(state["aggregates"]) == 1 and len(state["keypairs"]) == 1 and len(state["services"]) == 1
    assert seed(play, catalog_url, key_dir).changed() == 0


def test_racing_zones_one_host_one_zone(play, catalog_url):
    """Two playbooks put the same new host into different zones at once: exactly one wins."""
    runs = {}
    threads = [
        threading.Thread(target=lambda z=zone: runs.__setitem__(z, play("zone_race.yml", {
            "ministack_catalog": catalog_url, "zone": z})))
        for zone in ("azA", "azB")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert sorted(r.failed() for r in runs.values()) == [0, 1], {z: r.stdout for z, r in runs.items()}
    winner = next(z for z, r in runs.items() if r.failed() == 0)
    loser = next(r for r in runs.values() if r.failed() == 1)
    message = loser.failures["Aggregate holding host2"][0]["msg"]
    assert message == ("Cannot add host to aggregate (new). Reason: One or more hosts already in availability "
                       f"zone(s) ['{winner}'].")
    state = catalog_state(catalog_url)
    assert [(a["name"], a["availability_zone"], a["hosts"]) for a in state["aggregates"]] == [
        (f"agg-{winner}", winner, ["host2"])]
    assert len(state["services"]) == 1


def test_default_catalog_is_next_to_the_inventory(play, tmp_path, monkeypatch):
    monkeypatch.delenv("MINISTACK_CATALOG", raising=False)
    inventory_dir = tmp_path / "inv"
    inventory_dir.mkdir()
    inventory = inventory_dir / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    run = play("default_location.yml", {}, inventory=inventory)
    assert run.rc == 0, run.stdout
    assert len(run.result("List flavors from the default catalog")["flavors"]) == 6
    assert (inventory_dir / ".ministack" / "catalog.db").is_file()


def test_catalog_walkthrough_prints_the_seed_tables(play, sqlite_url, tmp_path):
    """playbooks/catalog.yml: the seed's catalog steps against this machine's libvirt.

    With the all-in-one inventory, as the walkthrough runs it: its first play applies the
    kvm_host role, which makes the storage pools and registers this machine (from zero too)."""
    playbook = str(ROOT / "playbooks" / "catalog.yml")
    inventory = ROOT / "inventories" / "local" / "hosts.yml"
    variables = {"ministack_catalog": sqlite_url, "catalog_key_file": str(tmp_path / "mykeypair.key")}
    checked = play(playbook, variables, check=True, inventory=inventory)
    assert checked.rc == 0, checked.stdout
    assert not (tmp_path / "mykeypair.key").exists()
    first = play(playbook, variables, inventory=inventory)
    assert first.rc == 0, first.stdout
    flavor_table = first.result("Print the flavor list")["msg"]
    assert "| 20 | newflavor |   768 |    1 |         0 |     1 | True      |" in flavor_table
    services = first.result("Print the compute service list")["msg"]
    assert "| nova-compute   | localhost" in services and "| nova     | enabled | up    |" in services
    assert "| properties        | SSD='true'" in first.result("Print the aggregate")["msg"]
    assert oct((tmp_path / "mykeypair.key").stat().st_mode & 0o777) == "0o600"
    second = play(playbook, variables, inventory=inventory)
    assert second.rc == 0 and second.changed() == 0, second.stdout
