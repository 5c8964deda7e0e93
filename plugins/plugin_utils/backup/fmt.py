# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Constants and names of Cinder's chunked Swift backup format (chunkeddriver.py, swift.py)."""

from __future__ import annotations

import base64
import json

CONTAINER = "volumebackups"  # backup_swift_container
CHUNK_SIZE = 52428800  # backup_swift_object_size: 50 MiB per object of a full backup
BLOCK_SIZE = 32768  # backup_swift_block_size: one sha256 per 32 KiB, compared by incrementals
COMPRESSIONS = ("zlib", "none")  # backup_compression_algorithm (zlib is Cinder's default)
SERVICE = "cinder.backup.drivers.swift.SwiftBackupDriver"  # what `backup record export` names


def prefix(volume_id: str, timestamp, zone: str, backup_id: str) -> str:
    """volume_<volume id>/<YYYYmmddHHMMSS>/az_<zone>_backup_<backup id>"""
    return f"volume_{volume_id}/{timestamp.strftime('%Y%m%d%H%M%S')}/az_{zone}_backup_{backup_id}"


def volume_meta(volume: dict) -> str:
    """The volume's metadata as Cinder's metadata version 2 keeps it (a JSON string)."""
    base = {k: volume.get(k) for k in ("id", "name", "size", "availability_zone", "bootable", "volume_type",
                                       "description")}
    base["bootable"] = bool(base["bootable"])
    return json.dumps({"version": 2, "volume-base-metadata": base,
                       "volume-metadata": dict(volume.get("metadata") or {}), "volume-glance-metadata": {}},
                      sort_keys=True)


def encode_record(record: dict) -> str:
    return base64.b64encode(json.dumps(record, sort_keys=True).encode()).decode()


def decode_record(url: str) -> dict:
    return json.loads(base64.b64decode(url.encode(), validate=True).decode())
