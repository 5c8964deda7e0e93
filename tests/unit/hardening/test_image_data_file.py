"""Issue 13 item 1: a qcow2 whose header names an external data file (or a backing file) is
refused everywhere an image is read: upload, the compute image cache, volume from image."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils import imagecheck
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import backends, runner
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.errors import BlockError
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import ComputeError, imagefile

pytestmark = pytest.mark.skipif(not shutil.which("qemu-img"), reason="qemu-img is needed")
SECRET = b"host-secret-0123456789" * 8


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.fixture
def crafted(tmp_path):
    """(image with data_file=<host file>, the host file, image with a backing file, a clean image)."""
    host_file = tmp_path / "host-file"
    evil = tmp_path / "evil.qcow2"
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={host_file},data_file_raw=on", str(evil), "1M")
    # The "host file" exists on the host with its own content; the image only names it.
    host_file.write_bytes(SECRET.ljust(1024 * 1024, b"\0"))
    backed = tmp_path / "backed.qcow2"
    qemu_img("create", "-f", "qcow2", "-b", str(host_file), "-F", "raw", str(backed), "1M")
    clean = tmp_path / "clean.qcow2"
    qemu_img("create", "-f", "qcow2", str(clean), "1M")
    return evil, host_file, backed, clean


def test_upload_refuses_an_external_data_file(crafted):
    evil, _host_file, backed, clean = crafted
    with pytest.raises(ComputeError, match="external data file"):
        imagefile.inspect(str(evil), "qcow2")
    with pytest.raises(ComputeError, match="backing file"):
        imagefile.inspect(str(backed), "qcow2")
    assert imagefile.inspect(str(clean), "qcow2")["virtual_size"] == 1024 * 1024


def test_upload_refuses_a_qcow2_declared_raw(crafted):
    evil = crafted[0]
    with pytest.raises(ComputeError, match=r"disk_format is raw but .* is qcow2"):
        imagefile.inspect(str(evil), "raw")


def test_volume_from_image_never_copies_the_host_file(crafted, tmp_path):
    evil, _host_file, _backed, clean = crafted
    backend = backends.FileBackend(runner.LocalRunner(), str(tmp_path / "volumes"))
    backend.setup()
    backend.create("volume-evil", 1)
    with pytest.raises(BlockError, match="external data file"):
        backend.copy_image(str(evil), "qcow2", "volume-evil")
    data = open(backend.path("volume-evil"), "rb").read(len(SECRET))
    assert data != SECRET, "the host file's bytes reached the volume"
    backend.create("volume-clean", 1)
    backend.copy_image(str(clean), "qcow2", "volume-clean")


def test_image_cache_refuses_before_copying(crafted):
    libvirt = pytest.importorskip("libvirt")
    from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import BuildError, driver

    evil = crafted[0]
    driver._connections.pop("test:///default", None)
    host = driver.LibvirtHost("test:///default", images_pool="default-pool")
    with pytest.raises(BuildError, match="external data file"):
        host.ensure_cached_image("evil-key", str(evil))
    assert host.cached_image("evil-key") is None
    assert libvirt  # the binding is what the driver uses


def test_problem_reads_format_specific():
    assert imagecheck.problem({"format": "qcow2", "format-specific": {"type": "qcow2", "data": {
        "data-file": "/etc/shadow"}}}, "qcow2").startswith("its qcow2 header names an external data file")
    assert imagecheck.problem({"format": "qcow2", "format-specific": {"data": {}}}, "qcow2") is None
    assert "not accepted" in imagecheck.problem({"format": "vmdk"}, "vmdk")
    assert os.path.basename(imagecheck.limited(["qemu-img"])[0]) == "prlimit"
