"""The test image's JSON flattener (images/test-image/rootfs/usr/lib/ministack/jsonflat.awk).

The guest runs it with busybox awk; here the machine's awk runs the same POSIX script, which
is enough to pin the parsing rules rcS relies on (key paths, arrays, escapes).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[3] / "images/test-image/rootfs/usr/lib/ministack/jsonflat.awk"

pytestmark = pytest.mark.skipif(shutil.which("awk") is None, reason="needs awk")


def flatten(doc) -> list[tuple[str, str]]:
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    out = subprocess.run(["awk", "-f", str(SCRIPT)], input=text, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t", 1)) for line in out.splitlines()]


def test_nova_meta_data_keys_and_hostname():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB test@host\n"
    rows = dict(flatten({
        "uuid": "u-1",
        "public_keys": {"mykey": key},
        "keys": [{"name": "mykey", "type": "ssh", "data": key}],
        "hostname": "vm-1.novalocal",
        "launch_index": 0,
        "devices": [],
        "meta": {},
    }))
    # Newlines inside strings stay escaped so that each value is one line for the shell.
    assert rows["public_keys.mykey"] == key.replace("\n", "\\n")
    assert rows["keys.0.data"] == key.replace("\n", "\\n")
    assert rows["hostname"] == "vm-1.novalocal"
    assert rows["launch_index"] == "0"
    assert "devices" not in rows and "meta" not in rows


def test_escapes_nesting_and_literals():
    rows = flatten('{"a": "x\\"y\\\\z\\/w", "b": [1, [true, null], {"c": -2.5e3}], "d": {"e": {"f": ""}}}')
    assert rows == [
        ("a", 'x"y\\z/w'),
        ("b.0", "1"),
        ("b.1.0", "true"),
        ("b.1.1", "null"),
        ("b.2.c", "-2.5e3"),
        ("d.e.f", ""),
    ]


def test_network_data_static_route():
    rows = dict(flatten({
        "links": [{"id": "tap1", "ethernet_mac_address": "52:54:00:AA:BB:CC"}],
        "networks": [{"link": "tap1", "type": "ipv4", "ip_address": "10.0.0.5", "netmask": "255.255.255.0",
                      "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"}]}],
    }))
    assert rows["links.0.ethernet_mac_address"] == "52:54:00:AA:BB:CC"
    assert rows["networks.0.routes.0.gateway"] == "10.0.0.1"
    assert rows["networks.0.type"] == "ipv4"
