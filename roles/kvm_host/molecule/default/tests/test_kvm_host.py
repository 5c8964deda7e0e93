# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvm_host on a lab host container: libvirtd, the two pools, the registration in the catalog."""

import os
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5] / "molecule" / "shared"))
from controller import run_module


def test_libvirtd_runs(host):
    assert host.service("libvirtd").is_running


@pytest.mark.parametrize("pool", ["ministack-instances", "ministack-images"])
def test_the_pool_is_running_and_autostarted(host, pool):
    info = host.check_output(f"virsh -c qemu:///system pool-info {pool}")
    assert "running" in info.split("State:")[1].splitlines()[0]
    assert "yes" in info.split("Autostart:")[1].splitlines()[0]


def test_the_pool_directories(host):
    for path in ("/var/lib/ministack/instances", "/var/lib/ministack/images"):
        assert host.file(path).is_directory


def test_the_host_is_registered_with_its_hypervisor_type_and_zone():
    name = os.environ["MINISTACK_MOLECULE_NAME"]
    services = run_module("compute_service_info")["compute_services"]
    service = next(s for s in services if s["host"] == name and s["binary"] == "nova-compute")
    assert service["capabilities"]["virt_type"] in ("kvm", "qemu")
    assert service["capabilities"]["virt_type_reason"]
    assert service["zone"] == "molecule-az"
