"""Boot the ministack test image under libvirt (TCG) and log in with an injected key.

Each test makes its own NAT network (DHCP, STP off), a qcow2 overlay on the cached image and
a seed ISO, then checks what the image promises: the key works for root, the hostname comes
from the seed, a user_data script ran, the address matches the DHCP lease, libvirt's
shutdown() powers the guest off, and a hot-plugged disk can carry a new ext4 filesystem.
Everything the test made is removed afterwards, also on failure.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from tests.helpers import guest

libvirt = pytest.importorskip("libvirt")

pytestmark = pytest.mark.vm

BOOT_TIMEOUT = 180  # TCG on a shared 2-core machine; a quiet machine needs ~10 s


@pytest.fixture(scope="module")
def conn():
    try:
        connection = libvirt.open("qemu:///system")
    except libvirt.libvirtError as exc:
        pytest.fail(f"libvirtd is not reachable ({exc}); start it with scripts/daemons.sh start")
    # libvirt prints every error to stderr by default, even those we expect and handle.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    yield connection
    connection.close()


@pytest.fixture
def lab(conn):
    """A workdir, a NAT network and a list of domains to destroy, all cleaned up at the end."""
    tag = uuid.uuid4().hex[:8]
    workdir = guest.make_workdir(f"image-test-{tag}-")
    network = guest.create_nat_network(conn, f"ministack-img-{tag}")
    env = {"tag": tag, "workdir": workdir, "network": network, "domains": []}
    try:
        yield env
    finally:
        for dom in env["domains"]:
            if is_running(dom):
                try:
                    dom.destroy()
                except libvirt.libvirtError:
                    pass
        try:
            network.destroy()
        except libvirt.libvirtError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)


def is_running(dom) -> bool:
    """A transient domain disappears when it stops: "not found" means not running."""
    try:
        return bool(dom.isActive())
    except libvirt.libvirtError:
        return False


def make_config_drive_iso(
    path: pathlib.Path, meta_data: dict, user_data: str, network_data: dict | None = None
) -> None:
    """The OpenStack config drive layout, built here with genisoimage (label config-2)."""
    with tempfile.TemporaryDirectory() as tmp:
        latest = pathlib.Path(tmp, "openstack", "latest")
        latest.mkdir(parents=True)
        (latest / "meta_data.json").write_text(json.dumps(meta_data))
        (latest / "user_data").write_text(user_data)
        if network_data is not None:
            (latest / "network_data.json").write_text(json.dumps(network_data))
        subprocess.run(
            ["genisoimage", "-quiet", "-o", str(path), "-V", "config-2", "-J", "-r", tmp],
            check=True, capture_output=True, text=True,
        )


def boot(
    conn, lab, seed_iso: pathlib.Path, mac: str | None = None, static_ip: str | None = None, pty: bool = False
) -> dict:
    """Start a guest on the test image with ``seed_iso``; wait for login; return what we saw.
    The console is a log file, or with ``pty`` a pty that wait_for_console reads live."""
    image = guest.ensure_test_image()
    workdir = lab["workdir"]
    disk = guest.make_overlay(image, workdir / "root.qcow2")
    log = None if pty else workdir / "console.log"
    mac = mac or guest.random_mac()
    xml = guest.domain_xml(
        f"ministack-img-{lab['tag']}", disk, log, network=lab["network"].name(), mac=mac, cdrom=seed_iso
    )
    started = time.monotonic()
    dom = conn.createXML(xml, 0)
    lab["domains"].append(dom)
    line = guest.wait_for_console(dom, guest.LOGIN_READY, timeout=BOOT_TIMEOUT)
    login_ready = time.monotonic() - started
    ip = static_ip or guest.wait_for_lease(lab["network"], mac, timeout=30)
    guest.wait_for_ssh(ip, lab["key"], timeout=60)
    ssh_ok = time.monotonic() - started
    print(f"\n[{lab['tag']}] login ready {login_ready:.1f} s, SSH works {ssh_ok:.1f} s after domain start")
    return {"dom": dom, "ip": ip, "line": line, "log": log, "login_ready": login_ready, "ssh": ssh_ok}


def test_config_drive_boot_injects_key_hostname_and_runs_user_data(conn, lab):
    priv, pub = guest.generate_ssh_keypair(lab["workdir"], "ed25519")
    lab["key"] = priv
    token = uuid.uuid4().hex
    meta = {
        "uuid": str(uuid.uuid4()),
        "name": "cd-guest",
        "hostname": "cd-guest.novalocal",
        "launch_index": 0,
        "availability_zone": "nova",
        "public_keys": {"mykey": pub.read_text()},
        "keys": [{"name": "mykey", "type": "ssh", "data": pub.read_text()}],
    }
    user_data = f"#!/bin/sh\necho {token} > /root/user-data-marker\n"
    iso = lab["workdir"] / "config-drive.iso"
    make_config_drive_iso(iso, meta, user_data)

    seen = boot(conn, lab, iso)

    console = seen["log"].read_text(errors="replace")
    assert "seed: config-2" in console
    # The console's own report agrees with libvirt's DHCP lease.
    assert re.search(rf"ip={re.escape(seen['ip'])}\b", seen["line"]), seen["line"]
    assert guest.ssh_run(seen["ip"], priv, "hostname").stdout.strip() == "cd-guest"
    assert guest.ssh_run(seen["ip"], priv, "cat /root/user-data-marker").stdout.strip() == token
    # ssh_run's jump path (ProxyCommand ssh -W); the guest's dropbear serves as its own hop.
    jumped = guest.ssh_run(seen["ip"], priv, "hostname", jump=f"root@{seen['ip']}", jump_key=priv)
    assert jumped.stdout.strip() == "cd-guest"
    keys = guest.ssh_run(seen["ip"], priv, "cat /root/.ssh/authorized_keys").stdout.splitlines()
    assert keys == [pub.read_text().strip()]  # public_keys and keys[] name the same key once

    # libvirt's shutdown() presses the ACPI power button: acpid must power the guest off.
    pressed = time.monotonic()
    seen["dom"].shutdown()
    while is_running(seen["dom"]) and time.monotonic() < pressed + 60:
        time.sleep(0.2)
    assert not is_running(seen["dom"]), "guest ignored the ACPI power button"
    print(f"shutdown() to powered off: {time.monotonic() - pressed:.1f} s")


def test_nocloud_seed_boot_with_rsa_key_and_hotplugged_volume(conn, lab):
    priv, pub = guest.generate_ssh_keypair(lab["workdir"], "rsa")
    lab["key"] = priv
    token = uuid.uuid4().hex
    iso = guest.make_nocloud_seed(
        lab["workdir"] / "seed.iso",
        {"instance-id": f"iid-{lab['tag']}", "local-hostname": "nocloud-guest", "public-keys": [pub.read_text()]},
        user_data=f"#!/bin/sh\necho {token} > /root/user-data-marker\n",
    )

    seen = boot(conn, lab, iso, pty=True)

    assert "hostname=nocloud-guest" in seen["line"]
    seed = guest.ssh_run(seen["ip"], priv, "cat /run/seed/meta-data").stdout
    assert f"instance-id: iid-{lab['tag']}" in seed
    assert guest.ssh_run(seen["ip"], priv, "hostname").stdout.strip() == "nocloud-guest"
    assert guest.ssh_run(seen["ip"], priv, "cat /root/user-data-marker").stdout.strip() == token

    # A volume test's steps: hot-plug a disk, make ext4 on it, write, flush, read back.
    volume = lab["workdir"] / "volume.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(volume), "64M"], check=True)
    attached = time.monotonic()
    seen["dom"].attachDeviceFlags(
        f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        f"<source file='{volume}'/><target dev='vdb' bus='virtio'/></disk>",
        libvirt.VIR_DOMAIN_AFFECT_LIVE,
    )
    guest.ssh_run(seen["ip"], priv, "for i in $(seq 100); do [ -b /dev/vdb ] && exit 0; usleep 100000; done; exit 1")
    print(f"hot-plugged disk visible as /dev/vdb after {time.monotonic() - attached:.1f} s")
    script = (
        "mkfs.ext4 -q -L vol-test /dev/vdb && mkdir -p /mnt/vol && mount /dev/vdb /mnt/vol && "
        f"echo {token} > /mnt/vol/data && dd if=/dev/zero of=/mnt/vol/blob bs=1M count=4 2>/dev/null && "
        "sync && umount /mnt/vol && mount -t ext4 -o ro /dev/vdb /mnt/vol && cat /mnt/vol/data && "
        "findfs LABEL=vol-test && awk '$2 == \"/mnt/vol\" { print \"fstype=\" $3 }' /proc/mounts"
    )
    out = guest.ssh_run(seen["ip"], priv, script, timeout=120).stdout
    assert token in out
    assert "/dev/vdb" in out and "fstype=ext4" in out


def test_config_drive_static_network_data(conn, lab):
    """Nova writes type "ipv4" networks for subnets without DHCP: the image must apply them."""
    priv, pub = guest.generate_ssh_keypair(lab["workdir"], "ecdsa")
    lab["key"] = priv
    net_xml = lab["network"].XMLDesc(0)
    gateway = re.search(r"<ip address='([0-9.]+)'", net_xml).group(1)
    static_ip = gateway.rsplit(".", 1)[0] + ".230"  # outside the DHCP range (.2-.199)
    mac = guest.random_mac()
    network_data = {
        "links": [{"id": "tap0", "type": "bridge", "ethernet_mac_address": mac, "mtu": 1500}],
        "networks": [{
            "id": "network0", "type": "ipv4", "link": "tap0", "ip_address": static_ip,
            "netmask": "255.255.255.0", "network_id": "n0",
            "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": gateway}],
        }],
        "services": [{"type": "dns", "address": gateway}],
    }
    meta = {"uuid": str(uuid.uuid4()), "name": "static-guest", "public_keys": {"k": pub.read_text()}}
    iso = lab["workdir"] / "config-drive.iso"
    make_config_drive_iso(iso, meta, "", network_data)

    seen = boot(conn, lab, iso, mac=mac, static_ip=static_ip)

    assert f"ip={static_ip} " in seen["line"]
    out = guest.ssh_run(static_ip, priv, "ip -4 addr show eth0; ip route; cat /etc/resolv.conf; pidof udhcpc || true")
    assert f"inet {static_ip}/24" in out.stdout
    assert f"default via {gateway}" in out.stdout
    assert f"nameserver {gateway}" in out.stdout
    assert out.stdout.strip().splitlines()[-1].startswith("nameserver")  # no udhcpc on a static NIC
    # No DHCP lease was taken for the static NIC.
    assert all(lease["mac"] != mac for lease in lab["network"].DHCPLeases())
