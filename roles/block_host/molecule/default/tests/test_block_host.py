# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""block_host (file backend) on a lab host container: tgt, the volume directory, the volume
service in the catalog, and a volume the controller makes and deletes on the host."""

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "molecule" / "shared"))
from controller import run_module


def test_tgt_runs(host):
    assert host.service("tgt").is_running


def test_the_file_backend_directory(host):
    volumes = host.file("/var/lib/ministack/volumes")
    assert volumes.is_directory and volumes.mode == 0o700


def test_the_volume_service_is_registered_and_up():
    result = run_module("volume_service_info")
    assert len(result["services"]) == 1
    row = result["services"][0]
    assert row["binary"] == "cinder-volume"
    assert row["host"] == os.environ["MINISTACK_MOLECULE_NAME"] + "@file"
    assert row["state"] == "up"
    assert result["services"][0]["total_capacity_gb"] == 10.0


def test_the_controller_creates_and_deletes_a_volume_on_the_host(host):
    """Commands reach the container through podman exec (block_host_connection)."""
    volume = run_module("volume", name="molecule-vol", size=1)["volume"]
    try:
        assert volume["status"] == "available"
        assert volume["host"] == os.environ["MINISTACK_MOLECULE_NAME"] + "@file"
        backing = host.file(f"/var/lib/ministack/volumes/volume-{volume['id']}")
        assert backing.is_file and backing.size == 1024**3
    finally:
        run_module("volume", name="molecule-vol", state="absent")
    assert not host.file(f"/var/lib/ministack/volumes/volume-{volume['id']}").exists
