"""An LXC server and a QEMU server side by side in one catalog on this machine.

The kvm_host role registers the machine as a QEMU host (``localhost``) and the lxc_host role as
an LXC host (``localhost-lxc``), two compute services of one libvirtd. A root filesystem tarball
with ``hypervisor_type=lxc`` goes to the LXC host only; the QEMU test image never does (with the
QEMU host disabled, it finds no valid host). Both servers: create, console log, stop/start,
delete, through the same modules. The container: the flavor's RAM and vCPUs as cgroup limits,
SSH with the injected key at its address on the network; suspend is refused with Nova's
NotSupported wording."""

from __future__ import annotations

import glob
import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest

from tests.helpers import guest

pytestmark = [pytest.mark.vm]
ROOT = pathlib.Path(__file__).resolve().parents[3]


def _lxc_driver_answers():
    return subprocess.run(["virsh", "-c", "lxc:///system", "version"], capture_output=True, text=True,
                          timeout=30, check=False)


def _play(tmp_path, book, name):
    path = tmp_path / f"{name}.yml"
    path.write_text(json.dumps(book))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    playbook = pathlib.Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(playbook), "-i", "localhost,", "-c", "local", "-e",
                           f"ansible_python_interpreter={sys.executable}", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200, check=False)
    try:
        proc.json = json.loads(proc.stdout)
    except ValueError:
        proc.json = {"plays": []}
    proc.tasks = {t["task"]["name"]: t["hosts"]["localhost"] for p in proc.json["plays"] for t in p["tasks"]
                  if "localhost" in t["hosts"]}
    return proc


def _build_lxc_rootfs():
    out = subprocess.run([str(ROOT / "images" / "build-lxc-rootfs.sh")], capture_output=True, text=True,
                         timeout=900, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return ROOT / ".cache" / "images" / "ministack-test-lxc.tar.gz"


def test_lxc_and_qemu_servers_side_by_side(tmp_path):
    probe = _lxc_driver_answers()
    assert probe.returncode == 0, (
        "libvirtd has no LXC driver (lxc:///system): scripts/daemons.sh start restarts it when "
        f"libvirt-daemon-driver-lxc was installed after it started. virsh said: {probe.stderr.strip()}")
    rootfs = _build_lxc_rootfs()
    priv, pub = guest.generate_ssh_keypair(tmp_path / "keys")
    suffix = uuid.uuid4().hex[:4]
    net, ctr, vm = f"sbs-{suffix}", f"ctr-{suffix}", f"vm-{suffix}"
    common = {"ministack_catalog": str(tmp_path / "catalog.db"), "ministack_image_store": str(tmp_path / "images")}
    console_until = "'login ready' in c.console_log"
    book = [
        {"hosts": "localhost", "gather_facts": True, "vars": {**common, "kvm_host_virt_type": "qemu",
                                                             "kvm_host_realize_networks": False},
         "roles": [{"role": "ministack.cloud.kvm_host"}, {"role": "ministack.cloud.lxc_host"}]},
        {"hosts": "localhost", "gather_facts": False, "vars": common, "tasks": [
            {"name": "Hypervisors", "ministack.cloud.compute_service_info": {}, "register": "hv"},
            {"ministack.cloud.network": {"name": net, "cidr": str(guest.free_subnet())}},
            {"ministack.cloud.image": {"name": "cirros6", "filename": str(guest.ensure_test_image())}},
            {"ministack.cloud.image": {"name": "rootfs", "filename": str(rootfs), "disk_format": "raw",
                                       "container_format": "compressed",
                                       "properties": {"hypervisor_type": "lxc"}}},
            {"ministack.cloud.keypair": {"name": "k", "public_key_file": str(pub)}},
            {"ministack.cloud.flavor": {"name": "c2.small", "vcpus": 2, "ram": 192, "disk": 1}},
            # Only the LXC host enabled: the QEMU image has nowhere to go.
            {"ministack.cloud.compute_service": {"host": "localhost", "enabled": False,
                                                 "disabled_reason": "test: only the LXC host"}},
            {"name": "QEMU image, LXC host only", "ministack.cloud.server": {
                "name": f"nowhere-{suffix}", "image": "cirros6", "flavor": "m1.tiny", "network": net},
             "register": "nowhere", "ignore_errors": True},
            {"ministack.cloud.server": {"name": f"nowhere-{suffix}", "state": "absent"}},
            {"ministack.cloud.compute_service": {"host": "localhost", "enabled": True}},
            {"name": "Create container", "ministack.cloud.server": {
                "name": ctr, "image": "rootfs", "flavor": "c2.small", "key_name": "k", "network": net},
             "register": "s"},
            {"name": "Create VM", "ministack.cloud.server": {
                "name": vm, "image": "cirros6", "flavor": "m1.tiny", "key_name": "k", "network": net},
             "register": "v"},
            {"name": "Container console", "ministack.cloud.server_console": {"server": ctr}, "register": "c",
             "until": console_until, "retries": 30, "delay": 1},
            {"name": "VM console", "ministack.cloud.server_console": {"server": vm}, "register": "c",
             "until": console_until, "retries": 60, "delay": 3},
        ]},
    ]
    later = [{"hosts": "localhost", "gather_facts": False, "vars": common, "tasks": [
        {"name": "Suspend container", "ministack.cloud.server_action": {"server": ctr, "action": "suspend"},
         "register": "susp", "ignore_errors": True},
        {"name": "Stop container", "ministack.cloud.server_action": {"server": ctr, "action": "stop"}},
        {"name": "Stop VM", "ministack.cloud.server_action": {"server": vm, "action": "stop"}},
        {"name": "Stopped", "ministack.cloud.server_info": {}, "register": "stopped"},
        {"name": "Start container", "ministack.cloud.server_action": {"server": ctr, "action": "start"}},
        {"name": "Start VM", "ministack.cloud.server_action": {"server": vm, "action": "start"}},
        {"name": "Container console again", "ministack.cloud.server_console": {"server": ctr}, "register": "c",
         "until": "c.console_log.count('login ready') >= 2", "retries": 30, "delay": 1},
    ]}]
    cleanup = [{"hosts": "localhost", "gather_facts": False, "vars": common, "tasks": [
        {"name": "Delete container", "ministack.cloud.server": {"name": ctr, "state": "absent"},
         "register": "dc"},
        {"name": "Delete VM", "ministack.cloud.server": {"name": vm, "state": "absent"}, "register": "dv"},
        {"ministack.cloud.network": {"name": net, "state": "absent"}},
        {"ministack.cloud.compute_service": {"host": "localhost-lxc", "state": "absent"}},
        {"ministack.cloud.compute_service": {"host": "localhost", "state": "absent"}},
    ]}]
    try:
        run = _play(tmp_path, book, "create")
        assert run.returncode == 0, run.stdout[-5000:]
        hosts = {h["host"]: h for h in run.tasks["Hypervisors"]["compute_services"]}
        assert hosts["localhost"]["hypervisor_type"] == "QEMU"
        assert hosts["localhost-lxc"]["hypervisor_type"] == "LXC"
        assert hosts["localhost-lxc"]["libvirt_uri"] == "lxc:///system"
        nowhere = run.tasks["QEMU image, LXC host only"]
        assert nowhere.get("failed") and "No valid host was found" in nowhere["msg"], nowhere
        assert "ImagePropertiesFilter removed localhost-lxc" in nowhere["msg"], nowhere["msg"]
        ctr_rec, vm_rec = run.tasks["Create container"]["server"], run.tasks["Create VM"]["server"]
        assert ctr_rec["host"] == "localhost-lxc" and ctr_rec["status"] == "ACTIVE"
        assert vm_rec["host"] == "localhost" and vm_rec["status"] == "ACTIVE"
        # What the container's pty printed, captured to its log on the host.
        assert "container up (LXC)" in run.tasks["Container console"]["console_log"]
        # cgroup limits from the flavor: 192 MiB, 2 vCPUs of CPU bandwidth.
        instance = ctr_rec["instance_name"]
        mem = glob.glob(f"/sys/fs/cgroup/memory/machine/lxc-*-{instance}.libvirt-lxc/memory.limit_in_bytes") or \
            glob.glob(f"/sys/fs/cgroup/machine.slice/*{instance}*/memory.max")
        assert mem and int(pathlib.Path(mem[0]).read_text()) == 192 * 1024 * 1024
        cpu = glob.glob(f"/sys/fs/cgroup/cpu/machine/lxc-*-{instance}.libvirt-lxc/cpu.cfs_quota_us")
        assert cpu and int(pathlib.Path(cpu[0]).read_text()) == 2 * 100000
        # The injected key opens the container at its address on the network.
        ip = ctr_rec["networks"][net][0]
        ssh = subprocess.run(["ssh", "-i", str(priv), "-o", "StrictHostKeyChecking=no", "-o",
                              "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
                              f"root@{ip}", "hostname; ip -4 addr show"], capture_output=True, text=True,
                             timeout=60, check=False)
        assert ssh.returncode == 0 and ssh.stdout.split()[0] == ctr.lower(), ssh.stderr
        assert ip in ssh.stdout

        again = _play(tmp_path, later, "stop-start")
        assert again.returncode == 0, again.stdout[-5000:]
        refused = again.tasks["Suspend container"]
        assert refused.get("failed") and ("The requested functionality is not supported: suspend on LXC host "
                                          "localhost-lxc") in refused["msg"], refused
        states = {s["name"]: s["status"] for s in again.tasks["Stopped"]["servers"]}
        assert states[ctr] == "SHUTOFF" and states[vm] == "SHUTOFF"
        assert again.tasks["Start VM"]["server"]["status"] == "ACTIVE"
        assert again.tasks["Start container"]["server"]["status"] == "ACTIVE"
    finally:
        done = _play(tmp_path, cleanup, "cleanup")
    assert done.returncode == 0, done.stdout[-3000:]
    removed = " ".join(done.tasks["Delete container"].get("removed") or [])
    leftovers = subprocess.run(["virsh", "-c", "lxc:///system", "list", "--all", "--uuid"], capture_output=True,
                               text=True, check=False).stdout
    assert ctr_rec["id"] not in leftovers
    assert not pathlib.Path(f"/var/lib/ministack/instances/{ctr_rec['id']}.rootfs").exists(), removed
