# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the two backup benchmarks share: the collection on sys.path, a file of random bytes,
its sha256, the `swift` CLI (python-swiftclient, the baseline) and a best-of-N timer."""

from __future__ import annotations

import hashlib
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))
MiB = 1024**2
GiB = 1024**3


def fill_random(path, size_bytes, chunk=16 * MiB, mode="wb"):
    """Write size_bytes of random bytes at the start of path (fsync'd)."""
    with open(path, mode) as handle:
        for _ in range(size_bytes // chunk):
            handle.write(os.urandom(chunk))
        handle.flush()
        os.fsync(handle.fileno())


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(16 * MiB):
            digest.update(block)
    return digest.hexdigest()


def swift_cli(auth_url, user, key):
    """argv prefix of the `swift` CLI against the cluster (the baseline of every ratio)."""
    return [sys.executable, "-m", "swiftclient.shell", "-A", auth_url, "-U", user, "-K", key]


def swift_upload_s(swift, container, path, runs=1):
    """Best of `runs` timed `swift upload` of path as one object (deleted afterwards)."""
    best = None
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run([*swift, "upload", "--object-name", "baseline", container, str(path)], check=True,
                       capture_output=True)
        took = time.monotonic() - start
        best = took if best is None else min(best, took)
        subprocess.run([*swift, "delete", container, "baseline"], check=True, capture_output=True)
    return best


def common_args(parser):
    parser.add_argument("--auth-url", default="http://127.0.0.1:8080/auth/v1.0")
    parser.add_argument("--user", default="test:tester")
    parser.add_argument("--key", default="testing", help="the password (or read it from --key-file)")
    parser.add_argument("--key-file", help="a file holding the password (the walkthrough's swift-demo-password)")
    parser.add_argument("--out", help="write the figures as JSON here")


def key_of(args):
    return pathlib.Path(args.key_file).read_text().strip() if args.key_file else args.key
