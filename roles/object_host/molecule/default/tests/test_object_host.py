# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""object_host on a lab host container (devices on a tmpfs): Swift's storage services under
systemd, swift.conf, the rings built on the controller and copied here, the devices."""

import json
import os
import pathlib

import pytest

SERVICES = ["account-server", "account-replicator", "account-auditor", "account-reaper",
            "container-server", "container-replicator", "container-auditor", "container-updater",
            "object-server", "object-replicator", "object-auditor", "object-updater"]


@pytest.mark.parametrize("service", [f"swift-{s}" for s in SERVICES] + ["rsync"])
def test_the_storage_service_runs(host, service):
    assert host.service(service).is_running, service


@pytest.mark.parametrize("port", [6200, 6201, 6202, 873])
def test_the_servers_listen(host, port):
    assert host.socket(f"tcp://0.0.0.0:{port}").is_listening or host.socket(f"tcp://127.0.0.1:{port}").is_listening


def test_swift_conf_holds_the_secret_and_is_not_world_readable(host):
    conf = host.file("/etc/swift/swift.conf")
    assert conf.user == "root" and conf.group == "swift" and conf.mode == 0o640
    assert "swift_hash_path_suffix" in conf.content_string


@pytest.mark.parametrize("ring", ["account", "container", "object"])
def test_the_ring_here_is_the_one_built_on_the_controller(host, ring):
    kept = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "swift" / f"{ring}.ring.gz"
    assert kept.is_file()
    here = host.file(f"/etc/swift/{ring}.ring.gz")
    assert here.is_file and here.sha256sum == _sha256(kept)


@pytest.mark.parametrize("device", ["d1", "d2", "d3"])
def test_the_device_belongs_to_swift_on_a_filesystem_with_large_xattrs(host, device):
    path = host.file(f"/srv/node/{device}")
    assert path.is_directory and path.user == "swift"
    assert host.check_output("stat -f -c %T /srv/node") == "tmpfs"


def test_the_object_server_answers(host):
    # Swift's recon middleware on the object server reports the Swift it runs
    out = host.check_output("python3 -c \"import urllib.request as u; "
                            "print(u.urlopen('http://127.0.0.1:6200/recon/version', timeout=10).read().decode())\"")
    assert json.loads(out) == {"version": "2.38.3"}


def _sha256(path: pathlib.Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
