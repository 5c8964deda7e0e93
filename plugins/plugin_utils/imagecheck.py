# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What makes a disk image file unsafe to hand to QEMU (the CVE-2024-32498 class).

A qcow2 header can name other files: a backing file, or an external data file
(``data-file``) whose bytes are the image's clusters. ``qemu-img convert -f qcow2`` run as
root on a block host, or QEMU opening a cached base image, then reads whatever host file
the header names: any tenant who can upload an image reads any file of the host. Nova,
Cinder and Glance now run ``qemu-img info`` with the format forced (never probed) and refuse
an image whose ``format-specific`` data names a data file, or which has a backing file.
The same rule is applied here everywhere an image is read: on upload (``image``), before
the compute image cache copies it to a KVM host, and on the block host before
``qemu-img convert`` writes it into a volume.

Plain functions over qemu-img's JSON, so the controller and a block host (through its
command runner) share them.
"""

from __future__ import annotations

import json

FORMATS = ("qcow2", "raw")
# Nova's QEMU_IMG_LIMITS: a crafted header must not make qemu-img eat the machine.
ADDRESS_SPACE = 1024 ** 3
CPU_SECONDS = 30


def info_argv(path: str, fmt: str | None, qemu_img: str = "qemu-img") -> list:
    """``qemu-img info`` as JSON; with ``fmt`` the format is forced, not probed."""
    argv = [qemu_img, "info", "--output=json"]
    if fmt:
        argv += ["-f", fmt]
    return [*argv, path]


def limited(argv: list) -> list:
    """The same command under prlimit (util-linux), for hosts reached through a runner."""
    return ["prlimit", f"--as={ADDRESS_SPACE}", f"--cpu={CPU_SECONDS}", *argv]


def parse(stdout: str) -> dict:
    try:
        info = json.loads(stdout)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def data_file(info: dict):
    """The external data file a qcow2 header names, or None."""
    specific = info.get("format-specific")
    if not isinstance(specific, dict):
        return None
    data = specific.get("data")
    if not isinstance(data, dict):
        return None
    return data.get("data-file")


def problem(info: dict, fmt: str) -> str | None:
    """Why the image described by ``info`` (from info_argv with ``fmt`` forced) must not be
    read, or None when it is safe."""
    if fmt not in FORMATS:
        return f"disk format {fmt!r} is not accepted (only {', '.join(FORMATS)})"
    if info.get("format") != fmt:
        return f"qemu-img does not read it as {fmt} (it reports {info.get('format')!r})"
    named = data_file(info)
    if named is not None:
        return (f"its qcow2 header names an external data file ({named}); such images are refused: "
                "convert it to a self-contained qcow2 (qemu-img convert -O qcow2) first")
    backing = info.get("backing-filename") or info.get("full-backing-filename")
    if backing:
        return f"it has a backing file ({backing}); flatten it first with qemu-img convert"
    return None
