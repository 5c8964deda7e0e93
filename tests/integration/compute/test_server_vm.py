"""A server from the project's test image: boot under QEMU, SSH with the injected key, console log,
idempotence, check mode, immutable options, snapshot, stop/start and a delete that leaves nothing."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.helpers import guest

pytestmark = [pytest.mark.vm]


def virsh(*args) -> str:
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True,
                          check=False).stdout


@pytest.fixture(scope="module")
def env(cloud, tmp_path_factory):
    image = guest.ensure_test_image()
    keydir = tmp_path_factory.mktemp("keys")
    priv, pub = guest.generate_ssh_keypair(keydir)
    suffix = uuid.uuid4().hex[:4]
    subnet = guest.free_subnet()
    names = {"net": f"cinet-{suffix}", "server": f"instance01-{suffix}", "cidr": str(subnet)}
    base = [
        {"name": "Network", "ministack.cloud.network": {"name": names["net"], "cidr": names["cidr"]},
         "register": "net"},
        {"name": "Keypair", "ministack.cloud.keypair": {"name": "mykeypair", "public_key_file": str(pub)}},
        {"name": "Flavor", "ministack.cloud.flavor": {"name": "m1.tinier", "id": "10", "ram": 256, "vcpus": 1,
                                                      "disk": 2}},
        {"name": "Image", "ministack.cloud.image": {"name": "cirros6", "filename": str(image),
                                                    "disk_format": "qcow2", "visibility": "public"}},
    ]
    server_task = {"name": "Server", "ministack.cloud.server": {
        "name": names["server"], "image": "cirros6", "flavor": "10", "key_name": "mykeypair",
        "nics": [{"net-id": "{{ net.network.id }}"}], "user_data": "#!/bin/sh\necho user-data-ran > /root/ud\n"},
        "register": "server"}
    yield {"cloud": cloud, "base": base, "server_task": server_task, "names": names, "priv": priv}
    cloud.play([{"name": "Delete server", "ministack.cloud.server": {"name": names["server"], "state": "absent"}},
                {"name": "Delete network", "ministack.cloud.network": {"name": names["net"], "state": "absent"}}])


@pytest.fixture(scope="module")
def created(env):
    result = env["cloud"].play([*env["base"], env["server_task"]])
    assert result.rc == 0, result.explain()
    return result


def test_create_reaches_active_with_the_seed_fields(created, env):
    server = created.task("Server")["server"]
    assert created.task("Server")["changed"] is True
    assert server["status"] == "ACTIVE"
    assert server["vm_state"] == "active"
    assert server["power_state"] == "Running"
    assert server["task_state"] is None
    assert server["host"] == "localhost"
    assert server["instance_name"].startswith("instance-")
    assert server["availability_zone"] == "nova"
    assert server["flavor"]["id"] == "10" and server["flavor"]["name"] == "m1.tinier"
    assert server["image"]["name"] == "cirros6"
    assert server["key_name"] == "mykeypair"
    assert server["launched_at"]
    assert len(server["host_id"]) == 56
    [address] = server["addresses"]
    net, ip = address["network"], address["address"]
    assert address["version"] == 4 and address["mac"].startswith("fa:16:3e:")
    assert net == env["names"]["net"] and ip in env["names"]["cidr"].rsplit(".", 1)[0] + "." + ip.rsplit(".", 1)[1]
    # The domain really exists and runs.
    assert server["instance_name"] in virsh("list", "--name")


def test_ssh_with_the_injected_key_and_console_log(created, env):
    server = created.task("Server")["server"]
    ip = server["networks"][env["names"]["net"]][0]
    result = env["cloud"].play([{
        "name": "Console", "ministack.cloud.server_console": {"server": server["id"]}, "register": "console",
        # the whole line: QEMU writes the serial console as the guest prints it, so a read can end
        # mid-line ("login ready: hostname=i", seen once in CI)
        "until": r"console.console_log is search('login ready: [^\n]*\n')", "retries": 60, "delay": 2}])
    assert result.rc == 0, result.explain()
    log = result.task("Console")["console_log"]
    assert "login ready" in log and f"hostname={server['name'].lower()}" in log
    guest.wait_for_ssh(ip, env["priv"], timeout=60)
    out = guest.ssh_run(ip, env["priv"], "hostname; cat /root/ud; ip -4 addr show").stdout
    assert server["name"].lower() in out
    assert "user-data-ran" in out
    assert ip in out


def test_second_run_and_check_mode_change_nothing(created, env):
    again = env["cloud"].play([*env["base"], env["server_task"]])
    assert again.rc == 0, again.explain()
    assert again.changed == 0, [t for t in again.output["plays"][0]["tasks"] if t["hosts"]["localhost"].get("changed")]
    checked = env["cloud"].play([*env["base"], env["server_task"]], check=True, diff=True)
    assert checked.rc == 0 and checked.changed == 0, checked.explain()


def test_changing_flavor_or_image_fails_clearly(created, env):
    task = {**env["server_task"], "ministack.cloud.server": {**env["server_task"]["ministack.cloud.server"],
                                                             "flavor": "m1.tiny"}}
    result = env["cloud"].play([*env["base"], task])
    assert result.rc != 0
    msg = result.task("Server")["msg"]
    assert "flavor cannot be changed" in msg and "resize" in msg


def test_snapshot_into_a_new_image(created, env):
    server = created.task("Server")["server"]
    task = {"name": "Snap", "ministack.cloud.server_image": {"name": f"snap1-{env['names']['net']}",
                                                             "server": server["id"]}}
    result = env["cloud"].play([task])
    assert result.rc == 0, result.explain()
    image = result.task("Snap")["image"]
    assert image["status"] == "active" and image["min_disk"] == 2 and image["visibility"] == "private"
    assert image["properties"]["image_type"] == "snapshot"
    assert image["properties"]["instance_uuid"] == server["id"]
    assert image["disk_format"] == "qcow2" and image["size"] > 1_000_000
    again = env["cloud"].play([task])
    assert again.rc == 0 and again.task("Snap")["changed"] is False


def test_stop_and_start(created, env):
    server = created.task("Server")["server"]
    result = env["cloud"].play([
        {"name": "Stop", "ministack.cloud.server_action": {"server": server["id"], "action": "stop", "timeout": 60}},
        {"name": "Stop again", "ministack.cloud.server_action": {"server": server["id"], "action": "stop"}},
        {"name": "Start", "ministack.cloud.server_action": {"server": server["id"], "action": "start"}},
    ])
    assert result.rc == 0, result.explain()
    assert result.task("Stop")["server"]["status"] == "SHUTOFF"
    assert result.task("Stop")["server"]["power_state"] == "Shutdown"
    assert result.task("Stop again")["changed"] is False
    assert result.task("Start")["server"]["status"] == "ACTIVE"


def test_delete_leaves_no_domain_disk_or_claim(created, env):
    server = created.task("Server")["server"]
    result = env["cloud"].play([
        {"name": "Delete", "ministack.cloud.server": {"name": server["name"], "state": "absent"}},
        {"name": "Delete again", "ministack.cloud.server": {"name": server["name"], "state": "absent"}},
    ])
    assert result.rc == 0, result.explain()
    assert result.task("Delete")["changed"] is True and result.task("Delete again")["changed"] is False
    assert server["instance_name"] not in virsh("list", "--all", "--name")
    assert server["id"] not in virsh("vol-list", "ministack-instances")
    mac = server["ports"][0]["mac_address"]
    libvirt_net = created.task("Network")["network"]["libvirt_network"]
    assert libvirt_net.startswith(f"ministack-{env['names']['net']}-")
    assert mac not in virsh("net-dumpxml", libvirt_net)
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import allocations

    with env["cloud"].open_catalog().read() as tx:
        assert [a for a in allocations(tx) if a["server_id"] == server["id"]] == []
        ports = tx.all(tx.t.ports.select().where(tx.t.ports.c.server_id == server["id"]))
        assert ports == []
