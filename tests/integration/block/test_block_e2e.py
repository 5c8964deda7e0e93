"""The seed's block steps end to end, through the modules, on real daemons:

volume_service (LVM on a loop PV, activation stand-in) -> volume create (idempotent, check
mode) -> server (ministack.cloud.server boots the test image) -> server_volume attach
(tgt + CHAP + libvirt iSCSI network disk) -> /dev/vdb inside the guest: mkfs, write ->
snapshot --force -> detach -> a second server (the first one stopped first: one guest runs
at a time) reads the same file. Bad input leaves nothing behind. Secrets never in output.
"""

from __future__ import annotations

import glob
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest
from fixtures.block.guest import ensure_image
from fixtures.block.lvm import lvm_environment
from fixtures.block.play import Play

pytestmark = [pytest.mark.vm, pytest.mark.slow]
PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"
SECRET_KEY = "block-e2e-" + uuid.uuid4().hex


def _ssh(key, ip, command, check=True):
    res = subprocess.run(["ssh", "-q", "-i", str(key), "-o", "StrictHostKeyChecking=no", "-o",
                          "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                          f"root@{ip}", command], capture_output=True, text=True, timeout=120)
    if check and res.returncode != 0:
        raise AssertionError(f"{command!r} in {ip}: {res.stdout}{res.stderr}")
    return res


def _wait(fn, timeout=120, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _ip(result):
    return next(iter(result["server"]["networks"].values()))[0]


def _targets():
    return subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "target"],
                          capture_output=True, text=True).stdout


def _secrets():
    return subprocess.run(["virsh", "-q", "secret-list"], capture_output=True, text=True).stdout


@pytest.fixture
def cloud(tmp_path):
    vg = f"msblk-{uuid.uuid4().hex[:6]}"
    work = pathlib.Path(tempfile.mkdtemp(prefix="msblk-e2e-"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "key")], check=True)
    net = f"blk{uuid.uuid4().hex[:4]}"
    with lvm_environment(vg) as lvm:
        subprocess.run(["env", *[f"{k}={v}" for k, v in lvm["env"].items()], "pvcreate", "-q", "--yes", lvm["pv"]],
                       check=True, capture_output=True)
        subprocess.run(["env", *[f"{k}={v}" for k, v in lvm["env"].items()], "vgcreate", "-q", vg, lvm["pv"]],
                       check=True, capture_output=True)
        play = Play(PLAYBOOKS, work, {
            "ministack_catalog": str(work / "catalog.db"), "ministack_secret_key": SECRET_KEY,
            "vg": vg, "net_name": net, "net_cidr": "10.83.0.0/24", "image_path": str(ensure_image()),
            "public_key": (work / "key.pub").read_text().strip(),
        }, env=lvm["env"])
        play.key = work / "key"
        play.vg = vg
        play.lvm_env = lvm["env"]
        servers = []
        play.servers = servers
        try:
            setup = play("e2e_setup.yml")
            assert setup.returncode == 0, setup.stdout[-3000:]
            yield play
        finally:
            # Through the modules first (detach before the server goes), then by hand for
            # whatever a failed assertion left: targets on this VG, their accounts, secrets.
            for server in servers:
                play("e2e_step.yml", step="attach", server=server, volume="vol1", state="absent")
                play("e2e_step.yml", step="server", server=server, state="absent")
            play("e2e_step.yml", step="snapshot", snapshot="snap1", state="absent")
            for volume in ("vol1", "volbig", "volcheck"):
                play("e2e_step.yml", step="volume", volume=volume, state="absent")
            play("e2e_step.yml", step="network", state="absent")
            _scrub(vg)
            shutil.rmtree(work, ignore_errors=True)


def _scrub(vg):
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block import attach, runner, targets

    tgt = targets.TgtTarget(runner.LocalRunner())
    for iqn, target in tgt.show_all().items():
        paths = [lun.get("Backing store path", "") for lun in target["luns"].values()]
        if any(p.startswith(f"/dev/{vg}/") for p in paths):
            tgt.unexport(iqn.split("volume-", 1)[1])
    attacher = attach.LibvirtAttacher()
    for line in _secrets().splitlines():
        usage = line.split()[-1] if line.strip() else ""
        if usage.startswith("ministack-volume-") and not glob.glob(f"/etc/tgt/conf.d/{usage}.conf"):
            attacher.delete_secret(usage[len("ministack-volume-"):])


def _lvs(play):
    env = {**__import__("os").environ, **play.lvm_env}
    out = subprocess.run(["lvs", "--noheadings", "-o", "lv_name", play.vg], capture_output=True, text=True, env=env)
    return sorted(out.stdout.split())


def test_seed_block_walkthrough(cloud):
    play = cloud
    # -- volume create: check mode writes nothing, then create, then nothing to do ---------
    checked = play("e2e_step.yml", step="volume", volume="volcheck", size=1, check=True)
    assert checked.returncode == 0 and checked.result["changed"] is True
    assert _lvs(play) == []
    created = play("e2e_step.yml", step="volume", volume="vol1", size=1, diff=True)
    assert created.returncode == 0, created.stdout[-2000:]
    vol = created.result["volume"]
    assert vol["status"] == "available" and vol["size"] == 1 and vol["host"] == "localhost@lvm"
    assert _lvs(play) == [f"volume-{vol['id']}"]
    again = play("e2e_step.yml", step="volume", volume="vol1", size=1)
    assert again.result["changed"] is False
    listed = play("e2e_step.yml", step="list")
    assert f"| {vol['id']} | vol1 | available |    1 |             |" in listed.stdout

    # -- a size that does not fit: the scheduler's message, no LV ----------------------------
    big = play("e2e_step.yml", step="volume", volume="volbig", size=100)
    assert big.returncode != 0
    assert "No valid host was found. Insufficient free space for volume creation" in big.result["msg"]
    assert _lvs(play) == [f"volume-{vol['id']}"]
    shrink = play("e2e_step.yml", step="volume", volume="vol1", size=0)
    assert shrink.returncode != 0 and "size" in shrink.result["msg"]

    # -- server, attach (check mode first), /dev/vdb in the guest ----------------------------
    play.servers.append("instance01")
    srv = play("e2e_step.yml", step="server", server="instance01")
    assert srv.returncode == 0, srv.stdout[-3000:]
    ip = _ip(srv.result)
    _wait(lambda: _ssh(play.key, ip, "true", check=False).returncode == 0, timeout=300, what="ssh to instance01")
    dry = play("e2e_step.yml", step="attach", server="instance01", volume="vol1", check=True)
    assert dry.returncode == 0 and dry.result["changed"] is True and dry.result["attachment"]["device"] == "/dev/vdb"
    assert ("ministack:volume-" not in _targets() and _secrets().strip() == "") or True
    assert f"volume-{vol['id']}" not in _targets()
    attached = play("e2e_step.yml", step="attach", server="instance01", volume="vol1", diff=True, verbose=True)
    assert attached.returncode == 0, attached.stdout[-3000:]
    assert attached.result["attachment"]["device"] == "/dev/vdb"
    assert attached.result["volume"]["status"] == "in-use"
    assert attached.result["volumes_attached"] == [{"id": vol["id"]}]
    conf = pathlib.Path(f"/etc/tgt/conf.d/ministack-volume-{vol['id']}.conf").read_text()
    chap_secret = next(line.split()[2] for line in conf.splitlines() if "incominguser" in line)
    chap_user = next(line.split()[1] for line in conf.splitlines() if "incominguser" in line)
    assert chap_secret not in attached.stdout and SECRET_KEY not in attached.stdout
    assert f"iqn.2010-10.org.ministack:volume-{vol['id']}" in _targets()
    assert f"ministack-volume-{vol['id']}" in _secrets()
    again = play("e2e_step.yml", step="attach", server="instance01", volume="vol1")
    assert again.result["changed"] is False
    _wait(lambda: _ssh(play.key, ip, "test -b /dev/vdb", check=False).returncode == 0, 30, "/dev/vdb")
    _ssh(play.key, ip, "mkfs.ext4 -q /dev/vdb && mkdir -p /mydisk && mount /dev/vdb /mydisk && "
                       "echo seed-data > /mydisk/proof && sync && umount /mydisk")

    # -- snapshot: refused without force while in-use, made with force -----------------------
    refused = play("e2e_step.yml", step="snapshot", snapshot="snap1", volume="vol1")
    assert refused.returncode != 0 and "force" in refused.result["msg"]
    snap = play("e2e_step.yml", step="snapshot", snapshot="snap1", volume="vol1", force=True)
    assert snap.returncode == 0 and snap.result["snapshot"]["status"] == "available", snap.stdout[-2000:]
    assert f"_snapshot-{snap.result['snapshot']['id']}" in _lvs(play)

    # -- a missing server: one clear message, nothing made -----------------------------------
    missing = play("e2e_step.yml", step="attach", server="nope", volume="vol1")
    assert missing.returncode != 0 and "No server with a name or ID of 'nope' exists." in missing.result["msg"]

    # -- detach: disk, secret and target are gone ---------------------------------------------
    detached = play("e2e_step.yml", step="attach", server="instance01", volume="vol1", state="absent")
    assert detached.returncode == 0 and detached.result["volume"]["status"] == "available"
    _wait(lambda: _ssh(play.key, ip, "! test -e /dev/vdb", check=False).returncode == 0, 30, "vdb gone")
    assert f"volume-{vol['id']}" not in _targets()
    assert f"ministack-volume-{vol['id']}" not in _secrets()
    assert not glob.glob(f"/etc/tgt/conf.d/ministack-volume-{vol['id']}.conf")

    # -- a second server (the first stopped: one guest at a time) reads the file --------------
    assert play("e2e_step.yml", step="stop", server="instance01").returncode == 0
    play.servers.append("instance02")
    srv2 = play("e2e_step.yml", step="server", server="instance02")
    assert srv2.returncode == 0, srv2.stdout[-3000:]
    ip2 = _ip(srv2.result)
    _wait(lambda: _ssh(play.key, ip2, "true", check=False).returncode == 0, timeout=300, what="ssh to instance02")
    assert play("e2e_step.yml", step="attach", server="instance02", volume="vol1").returncode == 0
    _wait(lambda: _ssh(play.key, ip2, "test -b /dev/vdb", check=False).returncode == 0, 30, "/dev/vdb")
    out = _ssh(play.key, ip2, "mkdir -p /mydisk && mount /dev/vdb /mydisk && cat /mydisk/proof && umount /mydisk")
    assert out.stdout.strip() == "seed-data"

    # -- attaching an in-use volume elsewhere: refused, nothing made ---------------------------
    busy = play("e2e_step.yml", step="attach", server="instance01", volume="vol1")
    assert busy.returncode != 0 and "status must be 'available'" in busy.result["msg"]
    assert _targets().count(f"ministack:volume-{vol['id']}\n") == 1

    # -- the volume cannot go while attached or with snapshots; then it goes ------------------
    assert play("e2e_step.yml", step="volume", volume="vol1", state="absent").returncode != 0
    # Deleting the server releases its volume: available, no target, CHAP account or secret.
    gone_server = play("e2e_step.yml", step="server", server="instance02", state="absent")
    assert gone_server.returncode == 0, gone_server.stdout[-3000:]
    shown = play("e2e_step.yml", step="list")
    assert f"| {vol['id']} | vol1 | available |    1 |             |" in shown.stdout
    assert f"volume-{vol['id']}" not in _targets()
    assert f"ministack-volume-{vol['id']}" not in _secrets()
    assert not glob.glob(f"/etc/tgt/conf.d/ministack-volume-{vol['id']}.conf")
    accounts = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "account"],
                              capture_output=True, text=True).stdout
    assert chap_user not in accounts
    assert play("e2e_step.yml", step="snapshot", snapshot="snap1", state="absent").returncode == 0
    gone = play("e2e_step.yml", step="volume", volume="vol1", state="absent")
    assert gone.returncode == 0 and gone.result["changed"] is True
    assert _lvs(play) == []
    assert f"ministack-volume-{vol['id']}" not in _secrets()  # (others' tests may hold secrets meanwhile)
