#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup benchmark on the all-in-one machine (docs/benchmarks.md, "Volume backups").

One run, same host, same Swift cluster:
1. a 1 GiB file-backend volume filled with random bytes;
2. baseline: `swift upload` (python-swiftclient's CLI) of the very same bytes (one object);
3. a full backup with compression none (the ratio to 2. is the headline), then one with zlib;
4. 4 MiB of the volume changed, then an incremental: bytes uploaded vs the volume's size;
5. a restore of the full backup into a new volume: throughput beside the backup's.

The backups run through the library the modules call (VolumeBackup / VolumeBackupRestore
``execute``), so ansible-playbook's start-up is not in the figures.

    .venv/bin/python benchmarks/backup/bench_backup.py --user test:tester --key testing
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))
GiB = 1024**3
MiB = 1024**2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--auth-url", default="http://127.0.0.1:8080/auth/v1.0")
    ap.add_argument("--user", default="test:tester")
    ap.add_argument("--key", default="testing")
    ap.add_argument("--runs", type=int, default=1, help="best of N for each timed step")
    ap.add_argument("--out", default=None, help="write the figures as JSON here")
    args = ap.parse_args()

    from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.resources import (
        VolumeBackup,
        VolumeBackupRestore,
    )
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.resources import Volume, VolumeService
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog

    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-bench-backup-"))
    vols = work / "vols"
    vols.mkdir()
    catalog = open_catalog(f"sqlite:///{work}/catalog.db")
    container = f"bench-{uuid.uuid4().hex[:8]}"
    auth = {"auth_url": args.auth_url, "username": args.user, "password": args.key}
    store = {"auth": auth, "auth_type": "v1password", "validate_certs": True, "container": container}

    def run(resource):
        with catalog.begin() as tx:
            return resource.run(tx)

    run(VolumeService({"host": "localhost@file", "backend": "file", "backend_config": {
        "file_directory": str(vols), "file_capacity_gib": 10}}))
    vol = run(Volume({"name": "bench", "size": 1}))["volume"]
    path = vols / f"volume-{vol['id']}"
    print("filling 1 GiB with random bytes ...", flush=True)
    with open(path, "r+b") as handle:
        for _ in range(GiB // (64 * MiB)):
            handle.write(os.urandom(64 * MiB))
        os.fsync(handle.fileno())
    figures = {}
    volume_sha = _sha(path)

    swift = [sys.executable, "-m", "swiftclient.shell", "-A", args.auth_url, "-U", args.user, "-K", args.key]
    best = None
    for _ in range(args.runs):
        start = time.monotonic()
        subprocess.run([*swift, "upload", "--object-name", "baseline", container, str(path)], check=True,
                       capture_output=True)
        took = time.monotonic() - start
        best = took if best is None else min(best, took)
    subprocess.run([*swift, "delete", container, "baseline"], check=True, capture_output=True)
    figures["swift_upload_s"] = round(best, 2)
    figures["swift_upload_mib_s"] = round(1024 / best, 1)

    def backup(name, **extra):
        params = {"name": name, "volume": "bench", "state": "present", "wait": True, "timeout": 3600, **store,
                  **extra}
        start = time.monotonic()
        result = VolumeBackup(params).execute(catalog)
        return time.monotonic() - start, result

    def delete(name):
        VolumeBackup({"name": name, "state": "absent", **store}).execute(catalog)

    for compression in ("none", "zlib"):
        best = None
        for i in range(args.runs):
            took, result = backup(f"full-{compression}-{i}", compression=compression)
            assert result["backup"]["status"] == "available", result
            best = took if best is None else min(best, took)
            if i + 1 < args.runs:
                delete(f"full-{compression}-{i}")
        figures[f"full_{compression}_s"] = round(best, 2)
        figures[f"full_{compression}_mib_s"] = round(1024 / best, 1)
        figures[f"full_{compression}_ratio"] = round(figures["swift_upload_s"] / best, 2)
    delete(f"full-zlib-{args.runs - 1}")  # the incremental's parent is the `none` one

    with open(path, "r+b") as handle:  # 4 MiB change: 4 runs of 1 MiB spread over the volume
        for mib in (10, 300, 600, 1000):
            handle.seek(mib * MiB)
            handle.write(os.urandom(MiB))
    took, inc = backup("incremental", incremental=True, compression="none")
    figures["incremental_s"] = round(took, 2)
    figures["incremental_uploaded_bytes"] = inc["uploaded_bytes"]
    figures["incremental_uploaded_percent"] = round(inc["uploaded_bytes"] * 100 / GiB, 3)
    figures["incremental_objects"] = inc["backup"]["object_count"]
    delete("incremental")

    best = None
    for i in range(args.runs):
        start = time.monotonic()
        result = VolumeBackupRestore({"backup": f"full-none-{args.runs - 1}", "volume": f"restored-{i}",
                                      "timeout": 3600, **store}, context={}).execute(catalog)
        took = time.monotonic() - start
        best = took if best is None else min(best, took)
    figures["restore_s"] = round(best, 2)
    figures["restore_mib_s"] = round(1024 / best, 1)
    restored = vols / f"volume-{result['volume']['id']}"
    figures["restore_matches_volume"] = _sha(restored) == volume_sha
    delete(f"full-none-{args.runs - 1}")
    print(json.dumps(figures, indent=2))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    subprocess.run([*swift, "delete", container], capture_output=True)
    subprocess.run(["rm", "-rf", str(work)], check=False)


def _sha(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(16 * MiB):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":
    main()
