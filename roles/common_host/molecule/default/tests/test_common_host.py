# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""common_host on a lab host container: the baseline packages, /etc/ministack, a clean boot."""

import pytest


@pytest.mark.parametrize("package", ["ca-certificates", "rsync", "jq"])
def test_every_baseline_package_is_installed(host, package):
    assert host.package(package).is_installed


def test_the_configuration_directory(host):
    config = host.file("/etc/ministack")
    assert config.is_directory
    assert config.user == "root" and config.mode == 0o755


def test_the_host_booted_cleanly(host):
    # the systemd module reports units, not the state of the whole system
    assert host.check_output("systemctl is-system-running") == "running"
