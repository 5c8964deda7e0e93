#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup data path alone, when the cluster cannot hold 3 x 1 GiB more (a tmpfs test Swift):
the block host program (backup/hostprog.py, run through hostjob + the local block runner,
exactly as volume_backup runs it) backs up and restores a file of random bytes, against
`swift upload` of the same file, same host, same cluster.

    .venv/bin/python benchmarks/backup/bench_datapath.py --mib 256 --user test:tester --key testing
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import tempfile
import time
import uuid

from benchlib import MiB, common_args, fill_random, key_of, sha256_file, swift_cli, swift_upload_s


def main():
    ap = argparse.ArgumentParser()
    common_args(ap)
    ap.add_argument("--mib", type=int, default=256)
    args = ap.parse_args()
    args.key = key_of(args)
    from ansible_collections.ministack.cloud.plugins.plugin_utils.backup import fmt, hostjob
    from ansible_collections.ministack.cloud.plugins.plugin_utils.block.runner import LocalRunner

    work = pathlib.Path(tempfile.mkdtemp(prefix="ministack-bench-datapath-"))
    src, dst = work / "volume", work / "restored"
    fill_random(src, args.mib * MiB)
    with open(dst, "wb") as handle:
        handle.truncate(args.mib * MiB)
    container = f"bench-{uuid.uuid4().hex[:8]}"
    swift = swift_cli(args.auth_url, args.user, args.key)
    auth = subprocess.run(["curl", "-si", "-H", f"X-Auth-User: {args.user}", "-H", f"X-Auth-Key: {args.key}",
                           args.auth_url], capture_output=True, text=True, check=True).stdout
    headers = dict(line.split(": ", 1) for line in auth.splitlines() if ": " in line)
    url, token = headers["X-Storage-Url"].strip(), headers["X-Auth-Token"].strip()
    subprocess.run([*swift, "post", container], check=True, capture_output=True)
    figures = {"mib": args.mib}
    figures["swift_upload_s"] = round(swift_upload_s(swift, container, src), 2)
    runner = LocalRunner(timeout=3600)

    def job(action, prefix, **extra):
        return {"action": action, "storage_url": url, "token": token, "container": container, "prefix": prefix,
                "chunk_size": fmt.CHUNK_SIZE, "block_size": fmt.BLOCK_SIZE, "size_bytes": args.mib * MiB,
                "header": {"backup_id": prefix, "volume_id": "bench", "created_at": "now"}, **extra}

    for compression in ("none", "zlib"):
        prefix = f"bench_{compression}"
        start = time.monotonic()
        hostjob.run(runner, job("backup", prefix, source_path=str(src), compression=compression))
        took = time.monotonic() - start
        figures[f"backup_{compression}_s"] = round(took, 2)
        figures[f"backup_{compression}_ratio"] = round(figures["swift_upload_s"] / took, 2)
        if compression == "none":
            start = time.monotonic()
            hostjob.run(runner, {**job("restore", prefix), "target_path": str(dst),
                                 "chain": [{"backup_id": prefix, "prefix": prefix}]})
            figures["restore_s"] = round(time.monotonic() - start, 2)
            figures["restore_matches"] = sha256_file(dst) == sha256_file(src)
        subprocess.run([*swift, "delete", container, "--prefix", prefix], capture_output=True)
    for key in ("swift_upload", "backup_none", "backup_zlib", "restore"):
        figures[f"{key}_mib_s"] = round(args.mib / figures[f"{key}_s"], 1)
    subprocess.run([*swift, "delete", container], capture_output=True)
    subprocess.run(["rm", "-rf", str(work)], check=False)
    print(json.dumps(figures, indent=2))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
