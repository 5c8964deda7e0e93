# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image files on the controller: inspection (qemu-img info, checksums) and the file store.

Glance's fields: ``checksum`` is the MD5 of the bytes, ``os_hash_algo`` sha512 and
``os_hash_value`` its digest, ``size`` the byte count, ``virtual_size`` the disk size the
image describes.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import tempfile

from .. import imagecheck
from . import ComputeError

DISK_FORMATS = ("qcow2", "raw")
CONTAINER_FORMATS = ("bare",)
CHUNK = 1024 * 1024


def _limits():  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (imagecheck.ADDRESS_SPACE, imagecheck.ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (imagecheck.CPU_SECONDS, imagecheck.CPU_SECONDS))


def qemu_img_info(path: str, fmt: str | None = None) -> dict:
    """``qemu-img info`` of a controller file, the format forced when ``fmt`` is given."""
    qemu_img = shutil.which("qemu-img")
    if not qemu_img:
        raise ComputeError("qemu-img is missing on the controller: install qemu-utils")
    proc = subprocess.run(imagecheck.info_argv(path, fmt, qemu_img), capture_output=True, text=True,
                          check=False, preexec_fn=_limits)
    if proc.returncode != 0:
        raise ComputeError(f"qemu-img cannot read {path}" + (f" as {fmt}" if fmt else "") + ": "
                           + (proc.stderr.strip().splitlines() or ["no output"])[-1])
    return imagecheck.parse(proc.stdout)


def checked_info(path: str, disk_format: str) -> dict:
    """qemu-img info with the format forced; refuses a file QEMU must not open (external data
    file, backing file, another real format)."""
    if disk_format not in imagecheck.FORMATS:
        raise ComputeError(f"disk_format must be one of {', '.join(imagecheck.FORMATS)}, got {disk_format!r}")
    if disk_format == "raw":
        # Forced raw reads any file as bytes: probe once so that a qcow2 declared raw is refused.
        actual = qemu_img_info(path).get("format")
        if actual != "raw":
            raise ComputeError(f"disk_format is raw but {path} is {actual}: set disk_format: {actual}")
    try:
        info = qemu_img_info(path, disk_format)
    except ComputeError:
        actual = qemu_img_info(path).get("format")
        raise ComputeError(f"disk_format is {disk_format} but {path} is {actual}: set disk_format: {actual}") \
            from None
    reason = imagecheck.problem(info, disk_format)
    if reason:
        raise ComputeError(f"Image file {path} is refused: {reason}")
    return info


def digests(path: str) -> dict:
    md5, sha512, size = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            md5.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
    return {"checksum": md5.hexdigest(), "os_hash_algo": "sha512", "os_hash_value": sha512.hexdigest(),
            "size": size}


def inspect(path: str, disk_format: str) -> dict:
    """Checksums and sizes of an image file; its real format must be the declared one."""
    if not os.path.isfile(path):
        raise ComputeError(f"filename {path} does not exist or is not a file on the controller")
    info = checked_info(path, disk_format)
    out = digests(path)
    out["virtual_size"] = int(info.get("virtual-size", 0))
    return out


class FileStore:
    """Image bytes in a controller directory, one file per image id."""

    def __init__(self, root: str):
        self.root = root

    def path(self, image_id: str) -> str:
        return os.path.join(self.root, image_id)

    def exists(self, image_id: str) -> bool:
        return os.path.isfile(self.path(image_id))

    def put(self, image_id: str, source: str) -> str:
        os.makedirs(self.root, exist_ok=True)
        dest = self.path(image_id)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{image_id}.")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return dest

    def adopt(self, image_id: str, tmp_path: str) -> str:
        """Move a file already on the controller's disk into the store."""
        os.makedirs(self.root, exist_ok=True)
        dest = self.path(image_id)
        shutil.move(tmp_path, dest)
        os.chmod(dest, 0o644)
        return dest

    def delete(self, image_id: str) -> bool:
        try:
            os.unlink(self.path(image_id))
            return True
        except FileNotFoundError:
            return False
