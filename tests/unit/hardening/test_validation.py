"""Issue 13 item 8: validation gaps, each through the module's action plugin (in-process)."""

from __future__ import annotations

import signal
import subprocess

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import open_catalog
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import xmlgen
from sqlalchemy import select

from tests.helpers.inproc import call


@pytest.fixture(scope="module")
def tv(tmp_path_factory):
    """One catalog for the module (creating one runs every migration)."""
    tmp = tmp_path_factory.mktemp("validation")
    return {"ministack_catalog": str(tmp / "catalog.db"), "ministack_image_store": str(tmp / "images")}


def failed_on(result: dict, field: str) -> bool:
    return result.get("failed") is True and result["msg"].startswith(f"{field}:")


class Slow(Exception):
    pass


def test_network_xml_never_enumerates_addresses():
    def alarm(_sig, _frame):
        raise Slow

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(2)
    try:
        xml = xmlgen.network_xml(xmlgen.NetworkSpec(name="n", bridge="b", cidr="0.0.0.0/0"))
    except Slow:
        pytest.fail("network_xml enumerates every address of 0.0.0.0/0")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert "start='0.0.0.2'" in xml.replace('"', "'") and "end='255.255.255.254'" in xml.replace('"', "'")
    xml = xmlgen.network_xml(xmlgen.NetworkSpec(name="n", bridge="b", cidr="10.9.0.0/16", gateway="10.9.255.254"))
    assert "start='10.9.0.1'" in xml.replace('"', "'") and "end='10.9.255.253'" in xml.replace('"', "'")


@pytest.mark.parametrize("cidr, ok", [("0.0.0.0/0", False), ("10.0.0.0/8", False), ("10.0.0.0/15", False),
                                      ("10.0.0.0/16", True), ("10.0.0.0/29", True), ("10.0.0.0/30", False)])
def test_network_prefix_range(tv, cidr, ok):
    result = call("network", {"name": "n1", "cidr": cidr}, tv, check=True)
    if ok:
        assert not result.get("failed"), result
    else:
        assert failed_on(result, "cidr") and "/16" in result["msg"] and "/29" in result["msg"], result


@pytest.mark.parametrize("gateway", ["10.5.5.0", "10.5.5.255", "not-an-ip", "10.5.5.1; reboot", "::1"])
def test_network_gateway_must_be_a_host_address(tv, gateway):
    result = call("network", {"name": "n1", "cidr": "10.5.5.0/24", "gateway_ip": gateway}, tv, check=True)
    assert failed_on(result, "gateway_ip"), result


@pytest.mark.parametrize("field, value", [("ram", 2**63), ("ram", 2**31), ("vcpus", 2**63), ("disk", 2**40),
                                          ("swap", 2**63), ("ephemeral", 2**63)])
def test_flavor_integers_past_max_int(tv, field, value):
    args = {"name": "big", "ram": 512, "vcpus": 1, "disk": 1, field: value}
    result = call("flavor", args, tv)
    assert failed_on(result, field) and "2147483647" in result["msg"], result


def test_server_name_with_control_characters_fails_before_scheduling(tv, tmp_path):
    image = tmp_path / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(image), "1M"], check=True, capture_output=True)
    assert not call("image", {"name": "tiny", "filename": str(image)}, tv).get("failed")
    assert not call("network", {"name": "srvnet", "cidr": "10.77.0.0/24"}, tv).get("failed")
    for name in ("web\x01", "web\nname", "tab\there", "nul\x00", "bidi\u202e", "sep\u2028x"):
        result = call("server", {"name": name, "image": "tiny", "flavor": "m1.tiny", "network": "srvnet"}, tv)
        assert failed_on(result, "name") and "control" in result["msg"], result
    catalog = open_catalog(tv["ministack_catalog"])
    with catalog.read() as tx:
        assert tx.all(select(tx.t.servers)) == [], "a server was recorded (and scheduled) with a bad name"
        assert tx.all(select(tx.t.ports)) == []
    catalog.dispose()
