"""The block_host role on this machine (no systemd: tgtd started directly): the LVM
backend on a loop PV (VG created by the role), the file backend; registration in the
catalog with capacity; idempotence and check mode."""

from __future__ import annotations

import os
import pathlib
import subprocess
import uuid

from fixtures.block.lvm import lvm_environment
from fixtures.block.play import Play

PLAYBOOKS = pathlib.Path(__file__).parent / "playbooks"


def test_role_lvm_backend_builds_vg_and_registers(tmp_path):
    vg = f"msrole-{uuid.uuid4().hex[:6]}"
    with lvm_environment(vg) as lvm:
        play = Play(PLAYBOOKS, tmp_path, {
            "ministack_catalog": str(tmp_path / "catalog.db"), "block_host_backend": "lvm",
            "block_host_volume_group": vg, "block_host_physical_volumes": [lvm["pv"]],
            "block_host_install_packages": False, "block_host_service_host": "localhost@lvm",
        }, env=lvm["env"])
        check = play("role.yml", check=True)
        assert check.returncode == 0, check.stdout[-3000:]
        env = {**os.environ, **lvm["env"]}
        assert subprocess.run(["vgs", vg], env=env, capture_output=True).returncode != 0  # check mode made nothing
        first = play("role.yml")
        assert first.returncode == 0, first.stdout[-3000:]
        assert subprocess.run(["vgs", vg], env=env, capture_output=True).returncode == 0
        services = first.results[-1]["services"]
        assert [s["host"] for s in services] == ["localhost@lvm"]
        svc = services[0]
        assert svc["binary"] == "cinder-volume" and svc["zone"] == "nova" and svc["status"] == "enabled"
        assert svc["state"] == "up" and 4.9 <= svc["total_capacity_gb"] <= 5.0
        assert svc["thin_provisioning"] is False  # no dm-thin here: lvm_type auto gives thick
        assert subprocess.run(["pgrep", "-x", "tgtd"]).returncode == 0
        second = play("role.yml")
        assert second.returncode == 0
        changed = [r for r in second.results if r.get("changed")]
        assert changed == [], changed


def test_role_file_backend_and_missing_pvs_message(tmp_path):
    directory = tmp_path / "vols"
    play = Play(PLAYBOOKS, tmp_path, {
        "ministack_catalog": str(tmp_path / "catalog.db"), "block_host_backend": "file",
        "block_host_file_directory": str(directory), "block_host_file_capacity_gib": 20,
        "block_host_install_packages": False,
    })
    first = play("role.yml")
    assert first.returncode == 0, first.stdout[-3000:]
    assert directory.is_dir() and oct(directory.stat().st_mode)[-3:] == "700"
    # tgtd listens on block_host_target_ip (default 127.0.0.1) only, not on every address.
    portals = subprocess.run(["tgtadm", "--lld", "iscsi", "--op", "show", "--mode", "portal"], capture_output=True,
                             text=True, check=True).stdout
    assert portals.split() == ["Portal:", "127.0.0.1:3260,1"], portals
    listening = subprocess.run(["ss", "-Hltn", "sport", "=", ":3260"], capture_output=True, text=True).stdout
    assert [line.split()[3] for line in listening.splitlines()] == ["127.0.0.1:3260"], listening
    svc = first.results[-1]["services"][0]
    assert svc["host"] == "localhost@file" and svc["total_capacity_gb"] == 20.0
    assert [r for r in play("role.yml").results if r.get("changed")] == []
    bad = Play(PLAYBOOKS, tmp_path, {
        "ministack_catalog": str(tmp_path / "catalog2.db"), "block_host_backend": "lvm",
        "block_host_volume_group": "no-such-vg-here", "block_host_install_packages": False,
    })("role.yml")
    assert bad.returncode != 0
    assert "block_host_physical_volumes: volume group no-such-vg-here does not exist" in bad.stdout
