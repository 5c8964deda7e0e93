#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup benchmark on the all-in-one machine (docs/benchmarks.md, "Volume backups").

One run, same host, same Swift cluster:
1. a 1 GiB file-backend volume filled with random bytes;
2. baseline: `swift upload` (python-swiftclient's CLI) of the very same bytes (one object);
3. a full backup with compression zlib (then deleted: random bytes do not shrink, so it holds
   as much as the next one), and a full backup with compression none (the ratio to 2. is the
   headline); one full backup at a time, so 3 replicas of 1 GiB are all the cluster must hold;
4. 4 MiB of the volume changed, then an incremental: bytes uploaded vs the volume's size;
5. a restore of the full backup into a new volume: throughput beside the backup's, and the
   restored bytes' sha256 against the volume's.

The backups run through the library the modules call (VolumeBackup / VolumeBackupRestore
``execute``), so ansible-playbook's start-up is not in the figures.

    flock /run/lock/ministack-swift.lock .venv/bin/python benchmarks/backup/bench_backup.py \
        --user demo:demo --key-file inventories/local/.ministack/swift-demo-password
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid

from benchlib import GiB, MiB, common_args, fill_random, key_of, sha256_file, swift_cli, swift_upload_s


def main():
    ap = argparse.ArgumentParser()
    common_args(ap)
    ap.add_argument("--runs", type=int, default=1, help="best of N for each timed step")
    args = ap.parse_args()
    key = key_of(args)

    from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.resources import (
        VolumeBackup,
        VolumeBackupRestore,
    )
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volume_services import VolumeService
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import Volume
    from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
    from ansible_collections.ministack.cloud.plugins.plugin_utils.workflow import execute

    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-bench-backup-"))
    vols = work / "vols"
    vols.mkdir()
    catalog = open_catalog(f"sqlite:///{work}/catalog.db")
    container = f"bench-{uuid.uuid4().hex[:8]}"
    store = {"auth": {"auth_url": args.auth_url, "username": args.user, "password": key},
             "auth_type": "v1password", "validate_certs": True, "container": container}
    swift = swift_cli(args.auth_url, args.user, key)
    figures = {"volume_gib": 1, "runs": args.runs}
    try:
        execute(catalog, VolumeService({"host": "localhost@file", "backend": "file", "backend_config": {
            "file_directory": str(vols), "file_capacity_gib": 10}}), False)
        vol = execute(catalog, Volume({"name": "bench", "size": 1}), False)["volume"]
        path = vols / f"volume-{vol['id']}"
        print("filling 1 GiB with random bytes ...", flush=True)
        fill_random(path, GiB, mode="r+b")
        volume_sha = sha256_file(path)
        subprocess.run([*swift, "post", container], check=True, capture_output=True)
        took = swift_upload_s(swift, container, path, args.runs)
        figures["swift_upload_s"] = round(took, 2)
        figures["swift_upload_mib_s"] = round(1024 / took, 1)
        print(f"swift upload: {took:.1f} s", flush=True)

        def backup(name, **extra):
            params = {"name": name, "volume": "bench", "state": "present", "wait": True, "timeout": 3600,
                      **store, **extra}
            start = time.monotonic()
            result = VolumeBackup(params).execute(catalog)
            assert result["backup"]["status"] == "available", result
            return time.monotonic() - start, result

        def delete(name):
            VolumeBackup({"name": name, "state": "absent", **store}).execute(catalog)

        for compression in ("zlib", "none"):  # the `none` one stays: the incremental's parent
            best = None
            for i in range(args.runs):
                took, _ = backup(f"full-{compression}", compression=compression)
                best = took if best is None else min(best, took)
                if compression == "zlib" or i + 1 < args.runs:
                    delete(f"full-{compression}")
            figures[f"full_{compression}_s"] = round(best, 2)
            figures[f"full_{compression}_mib_s"] = round(1024 / best, 1)
            figures[f"full_{compression}_ratio"] = round(figures["swift_upload_s"] / best, 2)
            print(f"full backup {compression}: {best:.1f} s", flush=True)

        with open(path, "r+b") as handle:  # 4 MiB change: 4 runs of 1 MiB spread over the volume
            for mib in (10, 300, 600, 1000):
                handle.seek(mib * MiB)
                handle.write(os.urandom(MiB))
        took, inc = backup("incremental", incremental=True, compression="none")
        figures["incremental_changed_bytes"] = 4 * MiB
        figures["incremental_s"] = round(took, 2)
        figures["incremental_uploaded_bytes"] = inc["uploaded_bytes"]
        figures["incremental_uploaded_percent"] = round(inc["uploaded_bytes"] * 100 / GiB, 3)
        figures["incremental_objects"] = inc["backup"]["object_count"]
        print(f"incremental: {took:.1f} s, {inc['uploaded_bytes']} bytes", flush=True)
        delete("incremental")

        best = None
        for i in range(args.runs):
            start = time.monotonic()
            result = VolumeBackupRestore({"backup": "full-none", "volume": f"restored-{i}", "timeout": 3600,
                                          **store}, context={}).execute(catalog)
            took = time.monotonic() - start
            best = took if best is None else min(best, took)
        figures["restore_s"] = round(best, 2)
        figures["restore_mib_s"] = round(1024 / best, 1)
        figures["restore_matches_volume"] = sha256_file(vols / f"volume-{result['volume']['id']}") == volume_sha
        print(f"restore: {best:.1f} s", flush=True)
        delete("full-none")
    finally:
        subprocess.run([*swift, "delete", container], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
