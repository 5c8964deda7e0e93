"""A compute host reached over qemu+ssh: a lab container (lab/lab up) prepared by the kvm_host role, a
server built there through the remote libvirt API (image upload, config drive, console log over the
same connection), SSH into the guest through the host, a volume of this machine's tgt attached to it
on the remote libvirt (the guest sees /dev/vdb), and a clean delete that frees the volume: no
target, CHAP account or libvirt secret left on either host.

Skipped when no lab compute host is up (``lab/lab up 1``; MINISTACK_LAB=name for another lab)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest
import yaml

from tests.helpers import guest

pytestmark = [pytest.mark.lab, pytest.mark.vm]
ROOT = pathlib.Path(__file__).resolve().parents[3]
_LAB = os.environ.get("MINISTACK_LAB", "lab")  # lab/lab keeps another lab's state in lab/state/<name>/
INVENTORY = ROOT / "lab" / "state" / ("" if _LAB == "lab" else _LAB) / "inventory.yml"


def lab_compute_host():
    if not INVENTORY.exists():
        return None
    inv = yaml.safe_load(INVENTORY.read_text())
    hosts = ((inv.get("all", {}).get("children", {}).get("compute") or {}).get("hosts")) or {}
    lab = inv["all"]["children"].get("lab", {}).get("hosts", {})
    for name in hosts:
        if name in lab and lab[name].get("libvirt_uri"):
            probe = subprocess.run(["virsh", "-c", lab[name]["libvirt_uri"], "version"], capture_output=True,
                                   timeout=90, check=False)  # a loaded machine: qemu+ssh takes seconds
            if probe.returncode == 0:
                return name, lab[name], inv["all"]["vars"]["ansible_ssh_private_key_file"]
    return None


def test_server_on_a_remote_compute_host(tmp_path):
    found = lab_compute_host()
    if found is None:
        pytest.skip("no lab compute host is up (lab/lab up 1)")
    host, hostvars, lab_key = found
    priv, pub = guest.generate_ssh_keypair(tmp_path / "keys")
    name, net = f"remote-{uuid.uuid4().hex[:4]}", f"labnet-{uuid.uuid4().hex[:4]}"
    common = {"ministack_catalog": str(tmp_path / "catalog.db"), "ministack_image_store": str(tmp_path / "images"),
              "ministack_secret_key": "lab-attach-" + uuid.uuid4().hex}
    # The block host is this machine: its tgt, on the address the lab host reaches it by.
    portal = subprocess.run(["ip", "-o", "route", "get", hostvars["ansible_host"]], capture_output=True, text=True,
                            check=True).stdout.split(" src ")[1].split()[0]
    volumes = tmp_path / "volumes"
    volumes.mkdir()
    volume_id = None
    book = [
        {"hosts": host, "gather_facts": True, "vars": {**common, "kvm_host_libvirt_uri": hostvars["libvirt_uri"],
                                                       "kvm_host_probe_timeout": 5},
         "roles": [{"role": "ministack.cloud.kvm_host"}]},
        {"hosts": "localhost", "gather_facts": False, "vars": common, "tasks": [
            {"ministack.cloud.network": {"name": net, "cidr": str(guest.free_subnet())}},
            {"ministack.cloud.image": {"name": "cirros6", "filename": str(guest.ensure_test_image())}},
            {"ministack.cloud.keypair": {"name": "k", "public_key_file": str(pub)}},
            {"name": "Create", "ministack.cloud.server": {"name": name, "image": "cirros6", "flavor": "m1.tiny",
                                                          "key_name": "k", "network": net,
                                                          "availability_zone": f"nova:{host}"}, "register": "s"},
            {"name": "Console", "ministack.cloud.server_console": {"server": name}, "register": "c",
             "until": "'login ready' in c.console_log", "retries": 100, "delay": 3},
            {"ministack.cloud.volume_service": {"host": "localhost@file", "backend": "file", "target_ip": portal,
                                                "backend_config": {"file_directory": str(volumes),
                                                                   "file_capacity_gib": 4}}},
            {"name": "Volume", "ministack.cloud.volume": {"name": f"{name}-vol", "size": 1}, "register": "v"},
            {"name": "Attach", "ministack.cloud.server_volume": {"server": name, "volume": f"{name}-vol"},
             "register": "a"},
        ]},
    ]
    path = tmp_path / "remote.yml"
    path.write_text(json.dumps(book))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    playbook = pathlib.Path(sys.executable).parent / "ansible-playbook"
    try:
        proc = subprocess.run([str(playbook), "-i", str(INVENTORY), str(path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        out = json.loads(proc.stdout)
        assert proc.returncode == 0, proc.stdout[-3000:]
        create = next(t for t in out["plays"][1]["tasks"] if t["task"]["name"] == "Create")["hosts"]["localhost"]
        server = create["server"]
        assert server["host"] == host and server["status"] == "ACTIVE"
        ip = server["networks"][net][0]
        # The machine has no route to guests inside the container: jump through the compute host.
        jump = (f"ssh -i {lab_key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
                f"-W %h:%p root@{hostvars['ansible_host']}")
        ssh = subprocess.run(["ssh", "-i", str(priv), "-o", "StrictHostKeyChecking=no", "-o",
                              "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", f"ProxyCommand={jump}",
                              f"root@{ip}", "hostname"], capture_output=True, text=True, timeout=60, check=False)
        assert ssh.stdout.strip() == name.lower(), ssh.stderr
        tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in out["plays"][1]["tasks"]}
        volume_id = tasks["Volume"]["volume"]["id"]
        assert tasks["Attach"]["attachment"]["device"] == "/dev/vdb"
        assert tasks["Attach"]["attachment"]["host"] == host and tasks["Attach"]["volume"]["status"] == "in-use"
        # Attached on the lab host's libvirt (not this machine's): the remote domain has the disk.
        blk = subprocess.run(["virsh", "-c", hostvars["libvirt_uri"], "domblklist", server["id"]],
                             capture_output=True, text=True, check=False).stdout
        assert "vdb" in blk and volume_id in blk, blk
        seen = subprocess.run(["ssh", "-i", str(priv), "-o", "StrictHostKeyChecking=no", "-o",
                               "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o",
                               f"ProxyCommand={jump}", f"root@{ip}",
                               "for i in $(seq 30); do test -b /dev/vdb && break; sleep 1; done; "
                               "blockdev --getsize64 /dev/vdb"], capture_output=True, text=True, timeout=90,
                              check=False)
        assert seen.stdout.strip() == str(1024 ** 3), seen.stdout + seen.stderr
    finally:
        # The server goes with its volume attached: the delete releases and frees it.
        cleanup = [{"hosts": "localhost", "gather_facts": False, "vars": common, "tasks": [
            {"ministack.cloud.server": {"name": name, "state": "absent"}},
            {"name": "After", "ministack.cloud.volume_info": {"name": f"{name}-vol"}, "register": "after"},
            {"ministack.cloud.volume": {"name": f"{name}-vol", "state": "absent"}},
            {"ministack.cloud.network": {"name": net, "state": "absent"}}]}]
        path.write_text(json.dumps(cleanup))
        done = subprocess.run([str(playbook), "-i", str(INVENTORY), str(path)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    after = next(t for t in json.loads(done.stdout)["plays"][0]["tasks"]
                 if t["task"]["name"] == "After")["hosts"]["localhost"]
    if volume_id is not None:
        assert [v["status"] for v in after["volumes"]] == ["available"]
    leftovers = subprocess.run(["virsh", "-c", hostvars["libvirt_uri"], "list", "--all", "--uuid"],
                               capture_output=True, text=True, check=False).stdout
    assert server["id"] not in leftovers
    remote_secrets = subprocess.run(["virsh", "-c", hostvars["libvirt_uri"], "secret-list"], capture_output=True,
                                    text=True, check=False).stdout
    assert f"ministack-volume-{volume_id}" not in remote_secrets
    targets = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"], capture_output=True,
                             text=True, check=False).stdout
    assert f"volume-{volume_id}" not in targets
    assert list(volumes.iterdir()) == []
