#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throughput inside a guest: a volume attached over iSCSI (tgt + CHAP + libvirt network disk,
QEMU's libiscsi) against a local raw disk of the same size on the same host filesystem.

    .venv/bin/python benchmarks/block/bench_iscsi.py [--mib 256] [--runs 3] \
        [--configs aio:none:native,rdwr:none:native,aio:writeback:threads]

Each config is tgt backing-store type : libvirt cache mode : libvirt io mode [: wc|nowc (tgt
write-cache) [: tuned|defaults (iSCSI segment sizes)]]; the local disk uses the same cache/io. In the guest: dd of /dev/zero to the disk with O_DIRECT (write),
then dd back to /dev/null with O_DIRECT (read), 1 MiB blocks. Prints a table and JSON.
One guest (TCG) runs for the whole benchmark.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))
sys.path.insert(0, str(ROOT / "tests"))

import libvirt  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.block import attach, backends, runner, targets  # noqa: E402
from fixtures.block import guest as guests  # noqa: E402


def local_disk_xml(path, dev, cache, io):
    io_attr = f" io='{io}'" if io else ""
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw' cache='{cache}'{io_attr}/>"
            f"<source file='{path}'/><target dev='{dev}' bus='virtio'/></disk>")


def dd(guest, dev, mib):
    rates = {}
    for what, cmd in (("write", f"dd if=/dev/zero of={dev} bs=1M count={mib} oflag=direct"),
                      ("read", f"dd if={dev} of=/dev/null bs=1M count={mib} iflag=direct")):
        start = time.monotonic()
        res = guest.ssh(cmd + " 2>&1", timeout=600)
        elapsed = time.monotonic() - start
        m = re.search(r"(\d+(?:\.\d+)?)\s*([KMG])B/s", res.stdout)
        rates[what] = mib / elapsed if not m else float(m.group(1)) * {"K": 1 / 1024, "M": 1, "G": 1024}[m.group(2)]
    return rates


def wait_dev(guest, dev, present=True):
    test = f"test -b {dev}" if present else f"! test -e {dev}"
    for _ in range(60):
        if guest.ssh(test, check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{dev} {'did not appear' if present else 'did not go'}")


def best(runs):
    return {k: max(r[k] for r in runs) for k in ("write", "read")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    # bstype:cache:io[:wc|nowc[:tuned|defaults]]
    ap.add_argument("--configs", default="rdwr:none:native:nowc:tuned,rdwr:none:native:wc:tuned,"
                                         "aio:none:native:wc:tuned,rdwr:none:native:wc:defaults")
    args = ap.parse_args()
    conn = libvirt.open("qemu:///system")
    guests.ensure_network(conn)
    work = pathlib.Path(tempfile.mkdtemp(prefix="msblk-bench-", dir="/var/lib/libvirt/images"))
    work.chmod(0o755)
    key, pub = guests.keypair(work)
    vm = guests.Guest(conn, f"msblk-bench-{uuid.uuid4().hex[:6]}", 3, work, pub, key)
    run = runner.LocalRunner()
    files = backends.FileBackend(run, str(work / "volumes"))
    files.setup()
    run.run(["chmod", "0755", files.directory])
    size_gib = max(1, -(-args.mib // 1024))
    results = []
    try:
        vm.start().wait_ready(timeout=300)
        attacher = attach.LibvirtAttacher(conn=conn)
        for config in args.configs.split(","):
            bstype, cache, io, *rest = config.split(":")
            write_cache = (rest[0] if rest else "wc") == "wc"
            tuned = (rest[1] if len(rest) > 1 else "tuned") == "tuned"
            io = None if io in ("", "default") else io
            # Local disk: a raw file beside the volume, plugged straight into the guest.
            local = work / "volumes" / "local-disk"
            run.run(["truncate", "-s", f"{size_gib}G", str(local)])
            run.run(["chown", "libvirt-qemu:libvirt-qemu", str(local)])
            xml = local_disk_xml(local, "vdb", cache, io)
            vm.dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            wait_dev(vm, "/dev/vdb")
            local_runs = [dd(vm, "/dev/vdb", args.mib) for _ in range(args.runs)]
            vm.dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            wait_dev(vm, "/dev/vdb", present=False)
            local.unlink()
            # iSCSI: a file-backend volume exported by tgt with CHAP, attached as a network disk.
            vid = str(uuid.uuid4())
            name = f"volume-{vid}"
            files.create(name, size_gib)
            tgt = targets.TgtTarget(run, conf_dir=str(work / "conf.d"), bstype=bstype, write_cache=write_cache,
                                    iscsi_params=None if tuned else {})
            user, secret = targets.generate_chap()
            info = tgt.export(vid, files.path(name), user, secret, initiator_addresses=["127.0.0.1"],
                              initiator_names=[attach.initiator_name("localhost")])
            attacher.cache, attacher.io = cache, io
            try:
                dev = attacher.attach(vm.name, vid, info, secret, initiator=attach.initiator_name("localhost"))
                wait_dev(vm, dev)
                iscsi_runs = [dd(vm, dev, args.mib) for _ in range(args.runs)]
                attacher.detach(vm.name, vid)
                wait_dev(vm, dev, present=False)
            finally:
                tgt.unexport(vid)
                files.delete(name)
            lb, ib = best(local_runs), best(iscsi_runs)
            results.append({"tgt_bstype": bstype, "cache": cache, "io": io or "default",
                            "tgt_write_cache": write_cache, "iscsi_params": "tuned" if tuned else "tgt defaults",
                            "local_mib_s": lb, "iscsi_mib_s": ib,
                            "ratio": {k: round(ib[k] / lb[k], 2) for k in lb}})
            print(f"{config:28s} write {ib['write']:7.1f}/{lb['write']:7.1f} MiB/s = {ib['write'] / lb['write']:.2f}x"
                  f"   read {ib['read']:7.1f}/{lb['read']:7.1f} MiB/s = {ib['read'] / lb['read']:.2f}x", flush=True)
    finally:
        vm.destroy()
        guests.remove_network(conn)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"mib": args.mib, "runs": args.runs, "results": results}, indent=2))


if __name__ == "__main__":
    main()
