"""A ministack backup is readable from the object store alone, in Cinder's chunked format.

The reader below uses only the standard library and plain HTTP to the Swift proxy (no
ministack code): it lists the container, reads ``<prefix>_metadata`` and
``<prefix>_sha256file``, decompresses each object, checks its md5, writes it at its offset,
and rebuilds the volume's bytes, whose sha256 must equal the volume's: for a full backup and
for an incremental chain (full + 2 incrementals).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib

import pytest
from conftest import fill, sha256_of

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
GiB = 1024 * MiB


def settled_listing(swift, container, timeout=120):
    """The container listing once every object a metadata file names is in it: listings are
    eventually consistent, and a busy container server lags behind the object PUTs."""
    deadline = time.monotonic() + timeout
    while True:
        names = swift.listing(container)
        wanted = set()
        for name in names:
            if name.endswith("_metadata"):
                wanted |= {n for o in json.loads(swift.get(container, name))["objects"] for n in o}
        if wanted <= set(names) or time.monotonic() > deadline:
            return names
        time.sleep(2)


def read_backup(swift, container, backup_id, volume_bytes):
    """Rebuild a volume from the store alone: find the backup by id in the object names, walk
    the chain through parent_id, apply the full backup then each incremental."""
    names = settled_listing(swift, container)
    by_id = {}
    for name in names:
        found = re.match(r"^(volume_[0-9a-f-]+/\d{14}/az_[^/]+_backup_([0-9a-f-]+))_metadata$", name)
        if found:
            by_id[found.group(2)] = found.group(1)
    chain, current = [], backup_id
    while current:
        prefix = by_id[current]
        meta = json.loads(swift.get(container, prefix + "_metadata"))
        assert meta["version"] == "1.0.0" and meta["backup_id"] == current
        for key in ("volume_id", "backup_name", "backup_description", "created_at", "parent_id", "volume_meta",
                    "objects"):
            assert key in meta, key
        sha = json.loads(swift.get(container, prefix + "_sha256file"))
        assert sha["chunk_size"] == 32768 and len(sha["sha256s"]) == volume_bytes // 32768
        listed = sorted(n for n in names if n.startswith(prefix) and n not in (prefix + "_metadata",
                                                                              prefix + "_sha256file"))
        assert listed == sorted(n for o in meta["objects"] for n in o)
        chain.insert(0, (prefix, meta, sha))
        current = meta["parent_id"]
    volume = bytearray(volume_bytes)
    for prefix, meta, _sha in chain:
        for number, entry in enumerate(meta["objects"], start=1):
            (name, info), = entry.items()
            assert name == f"{prefix}-{number:05d}"
            stored = swift.get(container, name)
            data = zlib.decompress(stored) if info["compression"] == "zlib" else stored
            assert info["compression"] in ("zlib", "none")
            assert len(data) == info["length"] and hashlib.md5(data).hexdigest() == info["md5"]
            volume[info["offset"]:info["offset"] + info["length"]] = data
    # the last sha256file describes the whole rebuilt volume
    last_sha = chain[-1][2]["sha256s"]
    assert [hashlib.sha256(volume[i:i + 32768]).hexdigest() for i in range(0, len(volume), 32768)] == last_sha
    return hashlib.sha256(volume).hexdigest(), chain


def test_full_and_incremental_chain_rebuild_from_the_store_alone(cloud):
    made = cloud("volume", name="fmt1", size=1)
    assert made.ok, made.result.get("msg")
    path = cloud.directory / f"volume-{made.result['volume']['id']}"
    first = fill(path, [0, 7, 300, 1023], seed=1)
    full = cloud("volume_backup", name="fmt-full", volume="fmt1", container=cloud.container)
    assert full.ok, full.result.get("msg")
    backup = full.result["backup"]
    assert backup["status"] == "available" and backup["object_count"] == 21 and backup["size"] == 1
    assert backup["is_incremental"] is False and backup["container"] == cloud.container
    assert re.match(rf"^volume_{backup['volume_id']}/\d{{14}}/az_nova_backup_{backup['id']}$",
                    backup["service_metadata"])
    digest, chain = read_backup(cloud.swift, cloud.container, backup["id"], GiB)
    assert digest == first
    objects = chain[0][1]["objects"]
    assert [o[n]["offset"] for o in objects for n in o] == [i * 50 * MiB for i in range(21)]
    compressions = {o[n]["compression"] for o in objects for n in o}
    assert compressions == {"zlib"}  # mostly zeros: every chunk shrinks

    second = fill(path, [7, 8], seed=2)
    inc1 = cloud("volume_backup", name="fmt-inc1", volume="fmt1", container=cloud.container, incremental=True)
    assert inc1.ok, inc1.result.get("msg")
    assert inc1.result["backup"]["is_incremental"] is True and inc1.result["backup"]["parent_id"] == backup["id"]
    assert inc1.result["uploaded_bytes"] == 2 * MiB  # only the changed blocks
    assert second != first

    fill(path, [500], seed=3)
    with open(path, "r+b") as handle:  # one changed 32 KiB block in the middle of nothing
        handle.seek(600 * MiB + 32768)
        handle.write(b"x" * 10)
    third = sha256_of(path)
    inc2 = cloud("volume_backup", name="fmt-inc2", volume="fmt1", container=cloud.container, incremental=True,
                 compression="none")
    assert inc2.ok, inc2.result.get("msg")
    assert inc2.result["backup"]["parent_id"] == inc1.result["backup"]["id"]
    assert inc2.result["uploaded_bytes"] == MiB + 32768
    digest, chain = read_backup(cloud.swift, cloud.container, inc2.result["backup"]["id"], GiB)
    assert digest == third and len(chain) == 3
    assert {o[n]["compression"] for o in chain[2][1]["objects"] for n in o} == {"none"}
