# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volume backends on a block host: LVM (Cinder's LVM driver) and plain sparse files.

Both speak the same small interface, take sizes in GiB like Cinder, and name volumes and
snapshots with Cinder's templates (``volume-<id>``, ``snapshot-<id>``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re

from .. import imagecheck
from .errors import BlockError, InvalidInput

GiB = 1024**3
VOLUME_NAME = "volume-{}"
SNAPSHOT_NAME = "snapshot-{}"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
#: Where a controller image is staged on a block host (the block_host role's sudo rules name it).
STAGING_PREFIX = "/var/tmp/ministack-image-"
_STAGED_NAME = re.compile(r"[^0-9A-Za-z_.-]")


def _check_name(name):
    # Names go into argv and paths: refuse anything that could climb out of the directory.
    if not _SAFE_NAME.match(name or ""):
        raise InvalidInput(f"Invalid block device name {name!r}: use letters, digits, '-', '_', '.', '+'.")
    return name


#: Work that moves a volume's bytes (zeroing, copying, converting) gets this long, plus one
#: second per MIN_RATE bytes: a slow disk still finishes, a hung command is still stopped.
#: A 1 TiB thick LV may take 600 s + 65,536 s to zero.
BASE_TIMEOUT = 600
MIN_RATE = 16 * 1024**2


def work_timeout(size_bytes):
    """Seconds allowed for a command that reads or writes ``size_bytes``."""
    return BASE_TIMEOUT + max(0, int(size_bytes)) // MIN_RATE


def _dm_name(vg, lv):
    """device-mapper's name of an LV: each '-' doubled, then vg-lv (as /dev/mapper shows it)."""
    return f"{vg.replace('-', '--')}-{lv.replace('-', '--')}"


def _gib(size_bytes):
    # Floor, not round: 1.996 GiB free must not look like room for a 2 GiB volume.
    return math.floor(size_bytes * 100 / GiB) / 100


class Backend:
    """Interface. ``kind`` is what `volume service list` shows after host@."""

    kind = "none"
    thin = False

    def __init__(self, runner):
        self.runner = runner

    def run(self, argv, **kw):
        return self.runner.run(argv, **kw)

    @contextlib.contextmanager
    def image_on_host(self, image_path):
        """The path of a controller image file as the block host sees it.

        On the controller itself (or a host that has the same file) that is the path; otherwise
        the bytes are copied through the runner's stdin to a private temporary file on the block
        host, removed afterwards. The controller holds images, never volumes (design.md)."""
        size = os.path.getsize(image_path)
        # Through sudo the host user may read no file but its own (the block_host role's rules):
        # always stage. As root or locally, a host that has the same file uses it.
        if not getattr(self.runner, "become", False):
            seen = self.run(["stat", "-c", "%s", image_path], check=False)
            if seen.rc == 0 and seen.stdout.strip() == str(size):
                yield image_path
                return
        staged = f"{STAGING_PREFIX}{os.getpid()}-{_STAGED_NAME.sub('_', os.path.basename(image_path))}"
        with open(image_path, "rb") as src:
            data = src.read()
        try:
            # No shell: an empty private file, then the bytes on dd's stdin.
            self.run(["install", "-m", "0600", "/dev/null", staged])
            self.run(["dd", f"of={staged}", "bs=4M", "status=none"], input_text=data, timeout=work_timeout(size))
            yield staged
        finally:
            self.run(["rm", "-f", staged], check=False)

    def capacity(self):  # pragma: no cover - interface
        raise NotImplementedError

    def path(self, name):  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, name):  # pragma: no cover - interface
        raise NotImplementedError

    def size_bytes(self, name):  # pragma: no cover - interface
        raise NotImplementedError

    def create(self, name, size_gib):  # pragma: no cover - interface
        raise NotImplementedError

    def delete(self, name):  # pragma: no cover - interface
        raise NotImplementedError

    def extend(self, name, size_gib):  # pragma: no cover - interface
        raise NotImplementedError

    def snapshot(self, source, name, size_gib):  # pragma: no cover - interface
        raise NotImplementedError

    def delete_snapshot(self, name):
        self.delete(name)

    def create_from_snapshot(self, snapshot, name, size_gib):
        """Default: a full volume, then the snapshot's bytes copied in, then grown to size."""
        snap_bytes = self.size_bytes(snapshot)
        self.create(name, max(size_gib, -(-snap_bytes // GiB)))
        try:
            self.copy_bytes(self.path(snapshot), self.path(name), snap_bytes)
        except BlockError:
            self.delete(name)
            raise

    def copy_bytes(self, src, dst, size_bytes=0):
        self.run(["dd", f"if={src}", f"of={dst}", "bs=4M", "conv=notrunc,fdatasync", "status=none"],
                 timeout=work_timeout(size_bytes))

    def check_image(self, image_path, image_format):
        """qemu-img info on the block host, the format forced, before anything converts the file:
        no external data file, no backing file (Cinder's check after CVE-2024-32498)."""
        fmt = image_format or "raw"
        res = self.run(imagecheck.limited(imagecheck.info_argv(image_path, fmt)), check=False)
        if res.rc != 0:
            detail = (res.stderr or res.stdout or "").strip().splitlines()
            raise BlockError(f"Image {image_path} cannot be read as {fmt} on the block host: "
                             f"{detail[-1] if detail else 'qemu-img info failed'}")
        reason = imagecheck.problem(imagecheck.parse(res.stdout), fmt)
        if reason:
            raise BlockError(f"Image {image_path} is refused: {reason}")

    def copy_image(self, image_path, image_format, name):
        """Write an image's bytes into an existing volume, converting to raw as Cinder does."""
        self.check_image(image_path, image_format)
        self.run(
            ["qemu-img", "convert", "-n", "-f", image_format or "raw", "-O", "raw", "-t", "none",
             image_path, self.path(name)], timeout=work_timeout(self.size_bytes(name))
        )

    def check_size(self, size_gib, free_gib, what="volume"):
        if size_gib > free_gib:
            raise InvalidInput(
                f"Insufficient free space for {what} creation on host (requested / avail): "
                f"{size_gib}/{free_gib}"
            )


class FileBackend(Backend):
    """Sparse files in one directory, for hosts without a spare disk.

    Snapshots are ``cp --reflink=auto --sparse=always`` copies: instant and copy-on-write on
    XFS/Btrfs (reflink), a sparse full copy elsewhere (ext4). No qcow2, so tgt exports the
    file as a raw LUN exactly as it exports an LV.
    """

    kind = "file"
    thin = False  # sparse, but every GiB promised is counted as used

    def __init__(self, runner, directory, capacity_gib=None):
        super().__init__(runner)
        if not directory or not directory.startswith("/"):
            raise InvalidInput(f"file backend directory must be an absolute path, got {directory!r}.")
        self.directory = directory.rstrip("/") or "/"
        self.capacity_gib = capacity_gib

    def path(self, name):
        return f"{self.directory}/{_check_name(name)}"

    def setup(self):
        self.run(["mkdir", "-p", self.directory])
        self.run(["chmod", "0700", self.directory])

    def _listing(self):
        # name/size/ pairs: a file name holds no '/', and the argument no space or newline (one
        # exact sudo rule matches it).
        res = self.run(["find", self.directory, "-maxdepth", "1", "-type", "f", "-printf", "%f/%s/"])
        fields = res.stdout.strip().split("/")
        return {fname: int(size) for fname, size in zip(fields[0::2], fields[1::2]) if fname}

    def capacity(self):
        res = self.run(["df", "-B1", "--output=size,avail", self.directory])
        size, avail = (int(x) for x in res.stdout.splitlines()[-1].split())
        provisioned = sum(
            s for n, s in self._listing().items() if n.startswith(("volume-", "snapshot-"))
        )
        total = self.capacity_gib * GiB if self.capacity_gib else size
        # Sparse files are thin, but a volume must be able to fill up: count what is promised,
        # never more than the filesystem really has left.
        free = max(0, min(total - provisioned, avail))
        return {
            "total_capacity_gb": _gib(total),
            "free_capacity_gb": _gib(free),
            "provisioned_capacity_gb": _gib(provisioned),
            "thin_provisioning": False,
        }

    def exists(self, name):
        return self.run(["test", "-f", self.path(name)], check=False).rc == 0

    def size_bytes(self, name):
        return int(self.run(["stat", "-c", "%s", self.path(name)]).stdout.strip())

    def create(self, name, size_gib):
        path = self.path(name)
        if self.exists(name):
            raise BlockError(f"Volume file {path} already exists.")
        # truncate makes a sparse file: no bytes are written until the guest writes them.
        self.run(["truncate", "-s", f"{int(size_gib)}G", path])
        self.run(["chmod", "0600", path])

    def delete(self, name):
        self.run(["rm", "-f", self.path(name)])

    def extend(self, name, size_gib):
        self.run(["truncate", "-s", f"{int(size_gib)}G", self.path(name)])

    def snapshot(self, source, name, size_gib):
        self.run(["cp", "--reflink=auto", "--sparse=always", self.path(source), self.path(name)],
                 timeout=work_timeout(self.size_bytes(source)))

    def create_from_snapshot(self, snapshot, name, size_gib):
        if self.exists(name):
            raise BlockError(f"Volume file {self.path(name)} already exists.")
        self.run(["cp", "--reflink=auto", "--sparse=always", self.path(snapshot), self.path(name)],
                 timeout=work_timeout(self.size_bytes(snapshot)))
        try:
            if size_gib * GiB > self.size_bytes(name):
                self.extend(name, size_gib)
        except BlockError:
            self.delete(name)
            raise

    def copy_image(self, image_path, image_format, name):
        self.check_image(image_path, image_format)
        # -S keeps zero runs sparse in the file.
        self.run(["qemu-img", "convert", "-n", "-S", "64k", "-f", image_format or "raw", "-O", "raw",
                  image_path, self.path(name)], timeout=work_timeout(self.size_bytes(name)))


class LVMBackend(Backend):
    """Cinder's LVM driver: one LV per volume in a volume group.

    ``lvm_type`` follows Cinder: ``auto`` uses a thin pool ``<vg>-pool`` when the kernel's
    device-mapper has the thin-pool target, thick (linear) LVs otherwise; ``thin`` insists;
    ``default`` is thick. Thick LVs are allocated ``contiguous`` (one segment each).
    """

    kind = "lvm"

    def __init__(self, runner, volume_group="cinder-volumes", lvm_type="auto", volume_clear="zero",
                 volume_clear_size_mib=0, alloc="contiguous", pool_fraction=0.95):
        super().__init__(runner)
        if lvm_type not in ("auto", "thin", "default"):
            raise InvalidInput(f"lvm_type must be one of auto, thin, default; got {lvm_type!r}.")
        if volume_clear not in ("zero", "none"):
            raise InvalidInput(f"volume_clear must be zero or none; got {volume_clear!r}.")
        self.vg = _check_name(volume_group)
        self.lvm_type = lvm_type
        self.volume_clear = volume_clear
        self.volume_clear_size_mib = int(volume_clear_size_mib or 0)
        self.alloc = alloc
        self.pool_fraction = pool_fraction
        self._thin = None

    @property
    def pool(self):
        return f"{self.vg}-pool"

    @staticmethod
    def lv_name(name):
        """LVM reserves names starting with 'snapshot': Cinder escapes them with '_'."""
        _check_name(name)
        return f"_{name}" if name.startswith("snapshot") else name

    def path(self, name):
        return f"/dev/{self.vg}/{self.lv_name(name)}"

    # -- discovery ---------------------------------------------------------------------------
    def thin_supported(self):
        """Thin needs dm-thin in the kernel; Cinder only checks the LVM version, which is not enough."""
        res = self.run(["dmsetup", "targets"], check=False)
        return res.rc == 0 and any(line.split()[:1] == ["thin-pool"] for line in res.stdout.splitlines())

    def pool_exists(self):
        return self.run(["lvs", "--noheadings", f"{self.vg}/{self.pool}"], check=False).rc == 0

    @property
    def thin(self):
        if self._thin is None:
            if self.lvm_type == "default":
                self._thin = False
            elif self.pool_exists():
                self._thin = True
            else:
                supported = self.thin_supported()
                if self.lvm_type == "thin" and not supported:
                    raise BlockError(
                        "lvm_type thin requested but this kernel has no dm thin-pool target; "
                        "use lvm_type auto or default."
                    )
                self._thin = supported
        return self._thin

    def vg_exists(self):
        return self.run(["vgs", "--noheadings", self.vg], check=False).rc == 0

    def setup(self, physical_volumes=()):
        """Create the VG on the PVs (and the thin pool when thin). Returns True when it changed."""
        changed = False
        if not self.vg_exists():
            if not physical_volumes:
                raise InvalidInput(f"Volume group {self.vg} does not exist and no physical_volumes given.")
            for pv in physical_volumes:
                if self.run(["pvs", "--noheadings", pv], check=False).rc != 0:
                    self.run(["pvcreate", "--yes", pv])
            self.run(["vgcreate", self.vg, *physical_volumes])
            changed = True
        if self.thin and not self.pool_exists():
            self.run(["lvcreate", "--yes", "-T", "-l", f"{int(self.pool_fraction * 100)}%FREE",
                      f"{self.vg}/{self.pool}"])
            changed = True
        return changed

    def _lvs(self, fields, target):
        res = self.run(["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|",
                        "-o", fields, target], check=False)
        if res.rc != 0:
            return None
        return [f.strip() for f in res.stdout.strip().split("|")]

    def capacity(self):
        res = self.run(["vgs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|",
                        "-o", "vg_size,vg_free", self.vg])
        size, free = (int(float(x)) for x in res.stdout.strip().split("|"))
        lv = self.run(["lvs", "--noheadings", "--units", "b", "--nosuffix", "--separator", "|",
                       "-o", "lv_name,lv_size,pool_lv", self.vg]).stdout
        provisioned = 0
        for line in lv.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) >= 2 and parts[0] != self.pool:
                provisioned += int(float(parts[1]))
        if self.thin:
            pool = self._lvs("lv_size,data_percent", f"{self.vg}/{self.pool}")
            pool_size = int(float(pool[0]))
            used = pool_size * float(pool[1] or 0) / 100
            # Cinder's thin free space is the pool's real free space; over-subscription is
            # judged against max_over_subscription_ratio by the scheduler.
            return {
                "total_capacity_gb": _gib(pool_size),
                "free_capacity_gb": _gib(pool_size - used),
                "provisioned_capacity_gb": _gib(provisioned),
                "thin_provisioning": True,
            }
        return {
            "total_capacity_gb": _gib(size),
            "free_capacity_gb": _gib(free),
            "provisioned_capacity_gb": _gib(provisioned),
            "thin_provisioning": False,
        }

    def exists(self, name):
        return self._lvs("lv_name", f"{self.vg}/{self.lv_name(name)}") is not None

    def size_bytes(self, name):
        return int(float(self._lvs("lv_size", f"{self.vg}/{self.lv_name(name)}")[0]))

    def create(self, name, size_gib):
        name = self.lv_name(name)
        if self.thin:
            argv = ["lvcreate", "--yes", "-T", f"{self.vg}/{self.pool}", "-V", f"{int(size_gib)}g", "-n", name]
        else:
            free = self.capacity()["free_capacity_gb"]
            self.check_size(size_gib, free)
            argv = ["lvcreate", "--yes", "-L", f"{int(size_gib)}g", "-n", name]
            if self.alloc:
                argv += ["--alloc", self.alloc]
            argv.append(self.vg)
        self.run(argv)

    def _zero(self, device, size_bytes):
        size_mib = size_bytes // (1024 * 1024)
        if self.volume_clear_size_mib:
            size_mib = min(size_mib, self.volume_clear_size_mib)
        self.run(["dd", "if=/dev/zero", f"of={device}", "bs=1M", f"count={size_mib}", "oflag=direct",
                  "status=none"], timeout=work_timeout(size_mib * 1024 * 1024))

    def _clear(self, name):
        if self.thin or self.volume_clear == "none":
            return
        # Cinder zeroes thick LVs so that the next tenant never reads old data. An inactive LV
        # (after a reboot without autoactivation) is activated to be zeroed.
        if self.run(["test", "-b", self.path(name)], check=False).rc != 0:
            self.run(["lvchange", "-ay", f"{self.vg}/{self.lv_name(name)}"], check=False)
        self._zero(self.path(name), self.size_bytes(name))

    def _clear_snapshot(self, name):
        """A thick snapshot's copy-on-write area holds the origin's old blocks: zero it, as
        Cinder does, through device-mapper's ``<vg>-<lv>-cow`` device when it is there, else
        the snapshot's own device (an LV holding the point-in-time copy)."""
        if self.thin or self.volume_clear == "none":
            return
        cow = f"/dev/mapper/{_dm_name(self.vg, self.lv_name(name))}-cow"
        device = cow if self.run(["test", "-b", cow], check=False).rc == 0 else self.path(name)
        self._zero(device, self.size_bytes(name))

    def delete(self, name):
        if not self.exists(name):
            return
        try:
            self._clear(name)
        except BlockError as err:
            # Cinder fails the delete rather than hand old data to the next volume.
            raise BlockError(f"Volume {name} was not deleted: zeroing it failed ({err}). The LV is kept; "
                             "fix the cause (is it active?) and delete again, or set volume_clear: none "
                             "on the block host.") from None
        self.run(["lvremove", "-f", f"{self.vg}/{self.lv_name(name)}"])

    def delete_snapshot(self, name):
        if not self.exists(name):
            return
        try:
            self._clear_snapshot(name)
        except BlockError as err:
            raise BlockError(f"Snapshot {name} was not deleted: clearing its copy-on-write area failed ({err}). "
                             "The LV is kept; fix the cause and delete again.") from None
        self.run(["lvremove", "-f", f"{self.vg}/{self.lv_name(name)}"])

    def extend(self, name, size_gib):
        self.run(["lvextend", "-L", f"{int(size_gib)}g", f"{self.vg}/{self.lv_name(name)}"])

    def snapshot(self, source, name, size_gib):
        if self.thin:
            self.run(["lvcreate", "--yes", "-s", "-n", self.lv_name(name), f"{self.vg}/{self.lv_name(source)}"])
            # Thin snapshots are created with the activation-skip flag: clear it as Cinder does.
            self.run(["lvchange", "-ay", "-K", f"{self.vg}/{self.lv_name(name)}"])
        else:
            self.run(["lvcreate", "--yes", "-s", "-L", f"{int(size_gib)}g", "-n", self.lv_name(name), f"{self.vg}/{self.lv_name(source)}"])

    def create_from_snapshot(self, snapshot, name, size_gib):
        if self.thin:
            # A thin snapshot of the snapshot is instant and shares blocks.
            self.run(["lvcreate", "--yes", "-s", "-n", self.lv_name(name), f"{self.vg}/{self.lv_name(snapshot)}"])
            self.run(["lvchange", "-ay", "-K", f"{self.vg}/{self.lv_name(name)}"])
            if size_gib * GiB > self.size_bytes(name):
                self.extend(name, size_gib)
            return
        super().create_from_snapshot(snapshot, name, size_gib)


def backend_from_config(runner, config):
    """Build a backend from a volume service's registered config (block_host role output)."""
    config = dict(config or {})
    kind = config.get("backend", "lvm")
    if kind == "file":
        return FileBackend(runner, config.get("file_directory", "/var/lib/ministack/volumes"),
                           config.get("file_capacity_gib"))
    if kind == "lvm":
        return LVMBackend(
            runner,
            volume_group=config.get("volume_group", "cinder-volumes"),
            lvm_type=config.get("lvm_type", "auto"),
            volume_clear=config.get("volume_clear", "zero"),
            volume_clear_size_mib=config.get("volume_clear_size", 0),
        )
    raise InvalidInput(f"Unknown block backend {kind!r}: use lvm or file.")
