"""Issue 16 item 6: modules return plain data, and what the openstack CLI prints (the
walkthrough's `server show`, `volume show`, `volume list`) comes from the cli_show/cli_table
filters over that data, byte for byte as before.

The expected tables (server_show_tables.txt, volume_tables.txt, object_tables.txt) were printed by the old
string-valued records over the same catalog rows, before the returns became plain data."""

from __future__ import annotations

import datetime
import pathlib

import pytest
from ansible_collections.ministack.cloud.plugins.filter.cli_table import cli_show, cli_table
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import VolumeInfo
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.server_record import list_servers
from ansible_collections.ministack.cloud.plugins.plugin_utils.objectstore.objects import object_view
from sqlalchemy import insert

HERE = pathlib.Path(__file__).resolve().parent
# The walkthrough's field list (playbooks/compute.yml compute_server_fields).
FIELDS = ["OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone", "OS-EXT-SRV-ATTR:host",
          "OS-EXT-SRV-ATTR:hypervisor_hostname", "OS-EXT-SRV-ATTR:instance_name", "OS-EXT-STS:power_state",
          "OS-EXT-STS:task_state", "OS-EXT-STS:vm_state", "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at",
          "accessIPv4", "accessIPv6", "addresses", "config_drive", "created", "flavor", "hostId", "id", "image",
          "key_name", "name", "progress", "project_id", "properties", "security_groups", "status", "updated",
          "user_id", "volumes_attached"]
# playbooks/block.yml's `volume show` fields
VOLUME_FIELDS = ["attachments", "availability_zone", "bootable", "consistencygroup_id", "created_at", "description",
                 "encrypted", "id", "migration_status", "multiattach", "name", "properties", "replication_status",
                 "size", "snapshot_id", "source_volid", "status", "type", "updated_at", "user_id"]
T0 = datetime.datetime(2026, 12, 2, 10, 0, 0)
T1 = datetime.datetime(2026, 12, 2, 10, 0, 42)


def build_catalog(tmp_path):
    """Three servers (ACTIVE with two networks and two volumes, BUILD, ERROR), rows written directly."""
    opened = open_catalog(f"sqlite:///{tmp_path}/catalog.db")
    with opened.begin() as tx:
        pid = "0123456789abcdef0123456789abcdef"
        tx.execute(insert(tx.t.projects), {"id": pid, "name": "returns", "is_default": False, "created_at": T0})
        tx.execute(insert(tx.t.images), {"id": "11111111-1111-4111-8111-111111111111", "name": "cirros6",
                                          "project_id": pid, "status": "active", "created_at": T0})
        for i, (name, cidr) in enumerate((("intnet", "10.5.5.0/24"), ("extnet", "10.6.0.0/24"))):
            tx.execute(insert(tx.t.networks), {"id": f"2222222{i}-2222-4222-8222-222222222222", "name": name,
                                                "project_id": pid, "cidr": cidr, "created_at": T0})
        flavor = {"id": "10", "name": "m1.tinier", "ram": 256, "vcpus": 1, "disk": 2, "ephemeral": 0, "swap": 0,
                  "extra_specs": {}}
        servers = [
            # ACTIVE on a host, two networks (two addresses on one), metadata, two volumes
            {"id": "33333333-3333-4333-8333-333333333333", "name": "instance01", "status": "ACTIVE",
             "vm_state": "active", "task_state": None, "power_state": 1, "host": "localhost", "node": "node1",
             "availability_zone": "nova", "image_id": "11111111-1111-4111-8111-111111111111",
             "key_name": "mykeypair", "config_drive": True, "metadata": {"role": "web", "a": "1"},
             "instance_number": 7, "launched_at": T1},
            # BUILD / scheduling: no host, no zone, no instance name, no addresses
            {"id": "44444444-4444-4444-8444-444444444444", "name": "building", "status": "BUILD",
             "vm_state": "building", "task_state": "scheduling", "power_state": 0, "host": None, "node": None,
             "availability_zone": None, "image_id": "11111111-1111-4111-8111-111111111111",
             "key_name": None, "config_drive": False, "metadata": {}, "instance_number": None, "launched_at": None},
            # ERROR with a fault, built from an image that is gone
            {"id": "55555555-5555-4555-8555-555555555555", "name": "broken", "status": "ERROR",
             "vm_state": "error", "task_state": None, "power_state": 0, "host": None, "node": None,
             "availability_zone": "", "image_id": "99999999-9999-4999-8999-999999999999",
             "key_name": None, "config_drive": True, "metadata": None, "instance_number": 8, "launched_at": None,
             "fault": {"code": 500, "message": "No valid host was found. ", "created": "2026-12-02T10:00:01Z"}},
        ]
        for s in servers:
            tx.execute(insert(tx.t.servers), {"project_id": pid, "flavor_id": "10", "flavor": flavor,
                                               "created_at": T0, "updated_at": T1, **s})
        ports = [("33333333-3333-4333-8333-333333333333", 0, "10.5.5.29", "fa:16:3e:00:00:01"),
                 ("33333333-3333-4333-8333-333333333333", 1, "10.6.0.5", "fa:16:3e:00:00:02"),
                 ("33333333-3333-4333-8333-333333333333", 0, "10.5.5.30", "fa:16:3e:00:00:03")]
        for n, (server, net, ip, mac) in enumerate(ports):
            tx.execute(insert(tx.t.ports), {"id": f"6666666{n}-6666-4666-8666-666666666666",
                                             "network_id": f"2222222{net}-2222-4222-8222-222222222222",
                                             "server_id": server, "mac_address": mac, "ip_address": ip,
                                             "status": "ACTIVE", "created_at": T0 + datetime.timedelta(seconds=n)})
        for n in range(2):
            vid = f"7777777{n}-7777-4777-8777-777777777777"
            tx.execute(insert(tx.t.volumes), {"id": vid, "name": f"vol{n}", "project_id": pid, "size": 1,
                                               "status": "in-use", "attach_status": "attached",
                                               "created_at": T0})
            tx.execute(insert(tx.t.attachments), {"id": f"8888888{n}-8888-4888-8888-888888888888",
                                                   "volume_id": vid, "server_id": servers[0]["id"],
                                                   "host": "localhost", "device": f"/dev/vd{'bc'[n]}",
                                                   "status": "attached", "created_at": T0})
    return opened


@pytest.fixture
def catalog(tmp_path):
    opened = build_catalog(tmp_path)
    yield opened
    opened.dispose()


def test_server_is_plain_data(catalog):
    server = {s["name"]: s for s in list_servers(catalog)}["instance01"]
    assert server["addresses"] == [
        {"network": "intnet", "address": "10.5.5.29", "version": 4, "mac": "fa:16:3e:00:00:01"},
        {"network": "extnet", "address": "10.6.0.5", "version": 4, "mac": "fa:16:3e:00:00:02"},
        {"network": "intnet", "address": "10.5.5.30", "version": 4, "mac": "fa:16:3e:00:00:03"}]
    assert server["flavor"]["id"] == "10" and server["flavor"]["name"] == "m1.tinier" and server["flavor"]["ram"] == 256
    assert server["image"] == {"id": "11111111-1111-4111-8111-111111111111", "name": "cirros6"}
    assert (server["vm_state"], server["power_state"], server["task_state"]) == ("active", "Running", None)
    assert server["config_drive"] is True and server["metadata"] == {"role": "web", "a": "1"}
    assert server["volumes_attached"] == [{"id": "77777770-7777-4777-8777-777777777777"},
                                          {"id": "77777771-7777-4777-8777-777777777777"}]
    assert server["host"] == "localhost" and server["instance_name"] == "instance-00000007"
    assert not [k for k in server if ":" in k], "a CLI field name is back among the keys"
    building = {s["name"]: s for s in list_servers(catalog)}["building"]
    assert building["addresses"] == [] and building["instance_name"] is None and building["config_drive"] is False


def test_server_show_tables_are_unchanged(catalog):
    printed = "".join(f"== {s['name']}\n" + cli_show(s, FIELDS, resource="server") + "\n" for s in list_servers(catalog))
    assert printed == (HERE / "server_show_tables.txt").read_text()
    server = list_servers(catalog)[0]
    assert cli_show(server, resource="server") == cli_show(server, FIELDS, resource="server"), \
        "without fields, cli_show(resource='server') prints every CLI field, sorted"


def test_volume_is_plain_data_and_its_tables_are_unchanged(catalog):
    with catalog.read() as tx:
        volumes = VolumeInfo({"project": "returns"}).run(tx)["volumes"]
    assert volumes[0]["bootable"] is False and volumes[0]["multiattach"] is False
    assert volumes[0]["attachments"][0]["server_name"] == "instance01"
    printed = cli_table(volumes, ["ID", "Name", "Status", "Size", "Attached to"], resource="volume") + "\n"
    printed += "".join(f"== {v['name']}\n" + cli_show(v, VOLUME_FIELDS, resource="volume") + "\n" for v in volumes)
    assert printed == (HERE / "volume_tables.txt").read_text()
    assert "| bootable            | true " in cli_show(dict(volumes[0], bootable=True), VOLUME_FIELDS, resource="volume")


def test_an_unknown_resource_layout_names_the_choices():
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match="resource: 'sever' has no CLI layout; use one of backup, object, server"):
        cli_show({"id": "x"}, resource="sever")


def test_object_is_plain_data_and_object_show_is_unchanged():
    plain = {"content-length": "13", "content-type": "text/plain", "etag": '"b80903a46569a959cbad22d55cc3a810"',
             "last-modified": "Wed, 02 Dec 2026 10:00:00 GMT", "x-object-meta-purpose": "demo"}
    slo = dict(plain, **{"x-static-large-object": "True", "content-length": "3145728", "etag": '"abc"'})
    views = [object_view("AUTH_test", "mycontainer", "hello.txt", h) for h in (plain, slo)]
    assert views[0]["content_length"] == 13 and views[0]["static_large_object"] is False
    assert views[1]["static_large_object"] is True
    assert not [k for v in views for k in v if "-" in k], "a header-style key is back among the keys"
    printed = "".join(cli_show(v, resource="object") + "\n" for v in views)
    assert printed == (HERE / "object_tables.txt").read_text()
