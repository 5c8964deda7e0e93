# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift's ``.ring.gz`` file, format version 1, written as Swift's own RingData.save writes it.

gzip stream (header mtime fixed at 1300507380 and the file name in the header, so the same
ring gives the same bytes), containing:

- ``b'R1NG'`` + ``!H`` 1, compressed at level 0 and fully flushed (so ``file`` can see it);
- ``!I`` length + ASCII JSON (sorted keys): devs (null for holes), part_shift, replica_count
  (the number of rows), byteorder, version;
- each replica row as raw native-order uint16 (``array('H').tofile``), the last row
  possibly shorter.

The file is written to a temporary file in the same directory, fsynced and renamed.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import sys
import tempfile
import zlib
from array import array

from .errors import RingError

GZIP_MTIME = 1300507380.0
MAGIC = b"R1NG"


def ring_bytes_json(devs, part_shift, rows, version):
    data = {"devs": devs, "part_shift": part_shift, "replica_count": len(rows), "byteorder": sys.byteorder}
    if version is not None:
        data["version"] = version
    return json.dumps(data, sort_keys=True, ensure_ascii=True).encode("ascii")


def _write(fileobj, filename, devs, part_shift, rows, version):
    gz = gzip.GzipFile(filename, mode="wb", fileobj=fileobj, mtime=GZIP_MTIME)
    # Same compressor switches as Swift's RingWriter.write_magic: the magic stored uncompressed.
    gz.compress = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    gz.write(struct.pack("!4sH", MAGIC, 1))
    gz.flush(zlib.Z_FULL_FLUSH)
    gz.compress = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    text = ring_bytes_json(devs, part_shift, rows, version)
    gz.write(struct.pack("!I", len(text)))
    gz.write(text)
    for row in rows:
        if not isinstance(row, array) or row.typecode != "H":
            row = array("H", row)
        row.tofile(gz)
    gz.close()


def write_ring_gz(path, devs, part_shift, rows, version=None):
    """Write a version 1 ring file atomically; returns the path."""
    if any(max(row, default=0) > 0xFFFE for row in rows):
        raise RingError("version 1 ring files hold device ids up to 65534 and no unassigned partitions")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fp:
            _write(fp, path, devs, part_shift, rows, version)
            fp.flush()
            os.fsync(fp.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_ring_gz(path):
    """Read a version 1 ring file: dict with devs, part_shift, replica2part2dev_id, version."""
    with gzip.open(path, "rb") as fp:
        magic = fp.read(6)
        if magic != MAGIC + struct.pack("!H", 1):
            raise RingError(f"{path}: not a version 1 ring file (magic {magic!r})")
        (length,) = struct.unpack("!I", fp.read(4))
        meta = json.loads(fp.read(length))
        parts = 1 << (32 - meta["part_shift"])
        rows = []
        for _row in range(meta["replica_count"]):
            row = array("H")
            row.frombytes(fp.read(2 * parts))
            if meta.get("byteorder", sys.byteorder) != sys.byteorder:
                row.byteswap()
            rows.append(row)
    meta["replica2part2dev_id"] = rows
    return meta
