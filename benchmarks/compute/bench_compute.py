#!/usr/bin/env python3
# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control-plane time of server create and delete, against a bare libvirt define+start.

    .venv/bin/python benchmarks/compute/bench_compute.py [--runs 5] [--ten]

Needs the daemons (scripts/daemons.sh start) and the test image (images/build-test-image.sh).
Uses a fresh catalog in a temporary directory; this machine is the compute host (qemu:///system),
registered by the kvm_host role. "Create" is the server module's whole create path (validate,
record BUILD, schedule, claim, build on the host, wait until the domain runs, record ACTIVE): the
guest's own boot comes after it and is not included. "Bare" is libvirt's defineXML + create of the
same domain XML with a prepared disk and config drive, measured in the same run.
--ten also creates ten servers in one play across two compute hosts (the second is a second libvirt
connection, qemu+unix:///system, to this machine's libvirtd) and deletes them.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "collections")]
os.environ.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import driver, servers, xmlgen  # noqa: E402

from tests.helpers import guest  # noqa: E402
from tests.integration.compute.conftest import Cloud  # noqa: E402


def stats(values):
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "runs": len(values)}


def bare_libvirt(runs: int, image: pathlib.Path, workdir: pathlib.Path, network: str) -> dict:
    """defineXML+create and destroy+undefine of a domain like the server module's."""
    conn = driver.connect("qemu:///system")
    create, delete = [], []
    for _ in range(runs):
        dom_id = str(uuid.uuid4())
        disk = workdir / f"{dom_id}.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image), str(disk), "2G"],
                       check=True)
        spec = xmlgen.DomainSpec(name=f"bench-{dom_id[:8]}", uuid=dom_id, memory_mb=256, vcpus=1,
                                 disks=[xmlgen.Disk(str(disk))], nics=[xmlgen.Nic(mac=f"52:54:00:{dom_id[:2]}:"
                                                                                   f"{dom_id[2:4]}:{dom_id[4:6]}",
                                                                                   network=network)])
        xml = xmlgen.domain_xml(spec)
        t0 = time.monotonic()
        dom = conn.defineXML(xml)
        dom.create()
        create.append(time.monotonic() - t0)
        t0 = time.monotonic()
        dom.destroy()
        dom.undefine()
        delete.append(time.monotonic() - t0)
        disk.unlink()
    return {"define_start": stats(create), "destroy_undefine": stats(delete)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ten", action="store_true")
    args = parser.parse_args()
    subprocess.run([str(ROOT / "scripts" / "daemons.sh"), "start"], check=True, capture_output=True)
    image = guest.ensure_test_image()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-compute-", dir=str(guest.VM_WORK_ROOT.parent)))
    os.chmod(work, 0o755)
    cloud = Cloud(work)
    suffix = uuid.uuid4().hex[:4]
    net = f"bench-{suffix}"
    t0 = time.monotonic()
    setup = cloud.play([
        {"name": "Network", "ministack.cloud.network": {"name": net, "cidr": str(guest.free_subnet())},
         "register": "n"},
        {"name": "Image", "ministack.cloud.image": {"name": "cirros6", "filename": str(image)}},
        {"name": "Flavor", "ministack.cloud.flavor": {"name": "m1.tinier", "id": "10", "ram": 256, "vcpus": 1,
                                                      "disk": 2}},
        {"name": "Flavor nano", "ministack.cloud.flavor": {"name": "m1.nano", "ram": 128, "vcpus": 1, "disk": 1}},
    ], roles=[{"role": "ministack.cloud.kvm_host"}], gather_facts=True)
    assert setup.rc == 0, setup.explain()
    results = {"setup_s": round(time.monotonic() - t0, 1)}
    libvirt_net = setup.task("Network")["network"]["libvirt_network"]
    results["bare_libvirt"] = bare_libvirt(args.runs, image, work, libvirt_net)

    catalog = cloud.open_catalog()
    create, delete, phases = [], [], []
    # The first create also copies the image into the host's cache: reported apart.
    for i in range(args.runs + 1):
        params = {"name": f"bench{i}-{suffix}", "image": "cirros6", "flavor": "10", "network": net,
                  "state": "present"}
        manager = servers.Servers(catalog, params)
        t0 = time.monotonic()
        out = manager.run()
        elapsed = time.monotonic() - t0
        assert out["server"]["status"] == "ACTIVE", out
        t0 = time.monotonic()
        servers.Servers(catalog, {"name": params["name"], "state": "absent"}).run()
        gone = time.monotonic() - t0
        if i == 0:
            results["first_create_with_image_copy_s"] = round(elapsed, 3)
            continue
        create.append(elapsed)
        delete.append(gone)
        phases.append(manager.timings)
    results["ministack_library"] = {
        "create": stats(create), "delete": stats(delete),
        "create_phases_median": {k: round(statistics.median(p[k] for p in phases), 3) for k in phases[0]},
    }

    # The same through Ansible: one task per play, wall time of ansible-playbook (process start included).
    name = f"play-{suffix}"
    t0 = time.monotonic()
    made = cloud.play([{"name": "Create", "ministack.cloud.server": {"name": name, "image": "cirros6",
                                                                     "flavor": "10", "network": net}}])
    play_create = time.monotonic() - t0
    assert made.rc == 0, made.explain()
    t0 = time.monotonic()
    gone = cloud.play([{"name": "Delete", "ministack.cloud.server": {"name": name, "state": "absent"}}])
    play_delete = time.monotonic() - t0
    t0 = time.monotonic()
    cloud.play([])
    empty = time.monotonic() - t0
    results["ansible_playbook_wall_s"] = {"create": round(play_create, 2), "delete": round(play_delete, 2),
                                          "empty_play": round(empty, 2)}

    if args.ten:
        reg = cloud.play([{"name": "Second host", "ministack.cloud.compute_service": {
            "host": "compute2", "libvirt_uri": "qemu+unix:///system", "discover": True,
            "capabilities": {"virt_type": "qemu"}}}])
        assert reg.rc == 0, reg.explain()
        names = [f"ten{i}-{suffix}" for i in range(10)]
        t0 = time.monotonic()
        ten = cloud.play([{"name": "Ten", "ministack.cloud.server": {"name": "{{ item }}", "image": "cirros6",
                                                                     "flavor": "m1.nano", "network": net},
                           "loop": names}])
        ten_create = time.monotonic() - t0
        assert ten.rc == 0, ten.explain()
        hosts = [r["server"]["host"] for r in ten.task("Ten")["results"]]
        t0 = time.monotonic()
        cloud.play([{"name": "Delete ten", "ministack.cloud.server": {"name": "{{ item }}", "state": "absent"},
                     "loop": names},
                    {"name": "Second host", "ministack.cloud.compute_service": {"host": "compute2",
                                                                                "state": "absent"}}])
        ten_delete = time.monotonic() - t0
        results["ten_servers_one_play"] = {"create_wall_s": round(ten_create, 1), "delete_wall_s": round(ten_delete, 1),
                                           "per_host": {h: hosts.count(h) for h in sorted(set(hosts))}}

    cloud.play([{"name": "Network", "ministack.cloud.network": {"name": net, "state": "absent"}}])
    shutil.rmtree(work, ignore_errors=True)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "kernel": platform.release(),
                          "libvirt": subprocess.run(["virsh", "-v"], capture_output=True, text=True).stdout.strip(),
                          "load_avg_at_end": os.getloadavg()}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
