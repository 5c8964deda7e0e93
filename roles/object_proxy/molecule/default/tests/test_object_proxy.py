# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""object_proxy (over object_host, one container): the proxy and memcached under systemd,
and a real round trip: tempauth token, container PUT, object PUT and GET through the proxy."""

import json

import pytest

ROUND_TRIP = r"""
import json, urllib.request as u
base = "http://127.0.0.1:8080"
auth = u.urlopen(u.Request(base + "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}),
                 timeout=30)
token, url = auth.headers["X-Auth-Token"], auth.headers["X-Storage-Url"]
def call(method, path, data=None):
    req = u.Request(url + path, data=data, method=method, headers={"X-Auth-Token": token})
    with u.urlopen(req, timeout=30) as resp:
        return resp.status, resp.read().decode()
put_container = call("PUT", "/molecule")[0]
put_object = call("PUT", "/molecule/hello.txt", b"hello from molecule")[0]
got = call("GET", "/molecule/hello.txt")
listing = call("GET", "/molecule")[1].split()
call("DELETE", "/molecule/hello.txt"); call("DELETE", "/molecule")
print(json.dumps({"url": url, "put_container": put_container, "put_object": put_object, "get": got,
                  "listing": listing}))
"""


@pytest.mark.parametrize("service", ["swift-proxy-server", "memcached"])
def test_the_service_runs(host, service):
    assert host.service(service).is_running


def test_the_proxy_listens_on_8080(host):
    assert host.socket("tcp://0.0.0.0:8080").is_listening


def test_the_healthcheck_answers(host):
    out = host.check_output("python3 -c \"import urllib.request as u; "
                            "print(u.urlopen('http://127.0.0.1:8080/healthcheck', timeout=10).read().decode())\"")
    assert out.strip() == "OK"


def test_a_client_stores_and_reads_an_object_through_the_proxy(host):
    result = json.loads(host.check_output("python3 -c %s", ROUND_TRIP))
    assert result["url"].endswith("/v1/AUTH_test")
    assert result["put_container"] in (201, 202) and result["put_object"] == 201
    assert result["get"] == [200, "hello from molecule"]
    assert result["listing"] == ["hello.txt"]


def test_the_proxy_conf_keeps_the_passwords_to_swift(host):
    conf = host.file("/etc/swift/proxy-server.conf")
    assert conf.user == "root" and conf.group == "swift" and conf.mode == 0o640
