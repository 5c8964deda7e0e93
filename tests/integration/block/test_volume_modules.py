"""volume, volume_snapshot, volume_service and their _info modules through ansible-playbook
on the file backend (no guest): idempotence, check mode, diff, extend in place, shrink
refused, quotas with Cinder's messages, snapshots and volumes made from them, and what may
not be deleted."""

from __future__ import annotations

import pathlib
import subprocess

import pytest
from fixtures.block.play import Play

PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"


@pytest.fixture
def play(tmp_path):
    directory = tmp_path / "vols"
    p = Play(PLAYBOOKS, tmp_path, {"ministack_catalog": str(tmp_path / "catalog.db"),
                                   "ministack_secret_key": "unit-test-key-0123456789",
                                   "file_directory": str(directory)})
    p.directory = directory
    directory.mkdir()  # the block_host role makes it; registration measures it
    first = p("e2e_step.yml", step="service", diff=True)
    assert first.returncode == 0, first.stdout[-2000:]
    assert first.result["changed"] is True and first.result["service"]["host"] == "localhost@file"
    assert p("e2e_step.yml", step="service").result["changed"] is False
    return p


def files(p):
    return sorted(f.name for f in p.directory.iterdir()) if p.directory.exists() else []


def test_volume_lifecycle(play):
    check = play("e2e_step.yml", step="volume_full", volume="vol1", size=1, check=True, diff=True)
    assert check.result["changed"] is True and check.result["diff"]["before"] == {}
    assert files(play) == []
    made = play("e2e_step.yml", step="volume_full", volume="vol1", size=1, description="first",
                metadata={"tier": "gold"})
    vol = made.result["volume"]
    assert vol["status"] == "available" and vol["properties"] == {"tier": "gold"} and vol["type"] == "__DEFAULT__"
    assert files(play) == [f"volume-{vol['id']}"]
    assert (play.directory / f"volume-{vol['id']}").stat().st_size == 1024**3
    same = play("e2e_step.yml", step="volume_full", volume="vol1", size=1, description="first")
    assert same.result["changed"] is False
    # Extend in place: same id, bigger file, diff shows the size.
    grown = play("e2e_step.yml", step="volume_full", volume="vol1", size=2, diff=True)
    assert grown.result["changed"] is True and grown.result["volume"]["id"] == vol["id"]
    assert grown.result["diff"]["before"]["size"] == 1 and grown.result["diff"]["after"]["size"] == 2
    assert (play.directory / f"volume-{vol['id']}").stat().st_size == 2 * 1024**3
    shrink = play("e2e_step.yml", step="volume_full", volume="vol1", size=1)
    assert shrink.returncode != 0
    assert "New size for extend must be greater than current size. (current: 2, extended: 1)" in shrink.result["msg"]
    moved = play("e2e_step.yml", step="volume_full", volume="vol1", availability_zone="az9")
    assert moved.returncode != 0 and moved.result["msg"].startswith("availability_zone: cannot change")
    no_type = play("e2e_step.yml", step="volume_full", volume="vol2", size=1, volume_type="ssd")
    assert no_type.returncode != 0 and "Volume type with name ssd could not be found." in no_type.result["msg"]
    too_big = play("e2e_step.yml", step="volume_full", volume="vol2", size=50)
    assert "No valid host was found. Insufficient free space" in too_big.result["msg"]
    assert files(play) == [f"volume-{vol['id']}"]
    # Snapshot (check mode first), then a volume from it, bigger.
    assert play("e2e_step.yml", step="snapshot", snapshot="snap1", volume="vol1", check=True).result["changed"]
    assert len(files(play)) == 1
    snap = play("e2e_step.yml", step="snapshot", snapshot="snap1", volume="vol1", diff=True)
    assert snap.result["snapshot"]["size"] == 2 and snap.result["snapshot"]["volume_id"] == vol["id"]
    assert play("e2e_step.yml", step="snapshot", snapshot="snap1", volume="vol1").result["changed"] is False
    small = play("e2e_step.yml", step="volume_full", volume="vol3", snapshot="snap1", size=1)
    assert "cannot be smaller than the snapshot size 2GB" in small.result["msg"]
    clone = play("e2e_step.yml", step="volume_full", volume="vol3", snapshot="snap1", size=3)
    assert clone.returncode == 0 and clone.result["volume"]["snapshot_id"] == snap.result["snapshot"]["id"]
    assert (play.directory / f"volume-{clone.result['volume']['id']}").stat().st_size == 3 * 1024**3
    listed = play("e2e_step.yml", step="snapshot_info", volume="vol1")
    assert [s["name"] for s in listed.result["snapshots"]] == ["snap1"]
    # A volume with snapshots is not deleted; removing the snapshot first lets it go.
    blocked = play("e2e_step.yml", step="volume", volume="vol1", state="absent")
    assert blocked.returncode != 0 and "Volume still has 1 dependent snapshots" in blocked.result["msg"]
    assert play("e2e_step.yml", step="snapshot", snapshot="snap1", state="absent").result["changed"] is True
    assert play("e2e_step.yml", step="volume", volume="vol1", state="absent", check=True).result["changed"] is True
    assert f"volume-{vol['id']}" in files(play)
    assert play("e2e_step.yml", step="volume", volume="vol1", state="absent").result["changed"] is True
    assert play("e2e_step.yml", step="volume", volume="vol1", state="absent").result["changed"] is False
    assert play("e2e_step.yml", step="volume", volume="vol3", state="absent").result["changed"] is True
    assert files(play) == []


def test_quotas_use_cinders_messages(play):
    assert play("e2e_step.yml", step="quota", volumes_quota=1, gigabytes_quota=3).returncode == 0
    assert play("e2e_step.yml", step="volume", volume="q1", size=1).returncode == 0
    count = play("e2e_step.yml", step="volume", volume="q2", size=1)
    assert count.result["msg"] == "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    assert play("e2e_step.yml", step="quota", volumes_quota=5, gigabytes_quota=3).returncode == 0
    gig = play("e2e_step.yml", step="volume", volume="q2", size=3)
    assert gig.result["msg"] == ("Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, "
                                 "quota is 3G and 1G has been consumed.")
    grow = play("e2e_step.yml", step="volume", volume="q1", size=4)
    assert "exceeds allowed gigabytes quota. Requested 3G" in grow.result["msg"]
    assert len(files(play)) == 1
    assert play("e2e_step.yml", step="volume", volume="q1", state="absent").returncode == 0


def test_volume_from_image_has_the_image_bytes(play):
    from fixtures.block.guest import ensure_image

    image = ensure_image()
    assert play("e2e_step.yml", step="image", image_path=str(image)).returncode == 0
    made = play("e2e_step.yml", step="volume_image", volume="boot1")
    assert made.returncode == 0, made.stdout[-2000:]
    vol = made.result["volume"]
    assert vol["bootable"] is True and vol["size"] == 1 and vol["image_id"]
    path = play.directory / f"volume-{vol['id']}"
    same = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(path), str(image)],
                          capture_output=True, text=True)
    assert same.returncode == 0, same.stdout + same.stderr
    assert play("e2e_step.yml", step="volume", volume="boot1", state="absent").returncode == 0


def test_a_volume_left_on_a_deleted_server_can_be_detached_and_deleted(play):
    """The state older runs left behind: the server is deleted, the volume still `in-use` with
    an attachment to it. server_volume state=absent frees it; then the volume goes."""
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
    from sqlalchemy import insert, select, update

    made = play("e2e_step.yml", step="volume", volume="stranded", size=1)
    vol = made.result["volume"]
    catalog = open_catalog(play.extravars["ministack_catalog"])
    with catalog.begin() as tx:
        project = tx.scalar(select(tx.t.projects.c.id))
        now = tx.now()
        tx.execute(insert(tx.t.servers), {"id": "0b5e7c1e-0000-4000-8000-00000000dead", "name": "gone01",
                                          "project_id": project, "status": "DELETED", "vm_state": "deleted",
                                          "power_state": 0, "created_at": now})
        tx.execute(insert(tx.t.attachments), {"id": "att-1", "volume_id": vol["id"], "host": "nowhere",
                                              "server_id": "0b5e7c1e-0000-4000-8000-00000000dead",
                                              "device": "/dev/vdb", "status": "attached", "created_at": now})
        tx.execute(update(tx.t.volumes).where(tx.t.volumes.c.id == vol["id"]).values(status="in-use",
                                                                                    attach_status="attached"))
    refused = play("e2e_step.yml", step="volume", volume="stranded", state="absent")
    assert refused.returncode != 0 and "detach it first" in refused.result["msg"]
    freed = play("e2e_step.yml", step="attach", server="gone01", volume="stranded", state="absent")
    assert freed.returncode == 0, freed.stdout[-2000:]
    assert freed.result["changed"] is True and freed.result["volume"]["status"] == "available"
    assert play("e2e_step.yml", step="volume", volume="stranded", state="absent").result["changed"] is True
    assert files(play) == []
