# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""object_proxy (over object_host, one container): the proxy and memcached under systemd, TLS
with the certificate the role made, on the container's address only; a real round trip:
tempauth token, container PUT, object PUT and GET through the proxy over HTTPS.

The TLS checks run on the controller, as a client would: HTTPS verified against the
certificate the role copied back succeeds; plain HTTP to the same port, HTTPS without that CA,
and the proxy's port on 127.0.0.1 are refused."""

import http.client
import json
import os
import pathlib
import re
import socket
import ssl
import urllib.error
import urllib.request

import pytest

ROUND_TRIP = r"""
import json, ssl, sys, urllib.request as u
base, ca = sys.argv[1], sys.argv[2]
tls = ssl.create_default_context(cafile=ca)
def open_(req):
    return u.urlopen(req, timeout=30, context=tls)
auth = open_(u.Request(base + "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}))
token, url = auth.headers["X-Auth-Token"], auth.headers["X-Storage-Url"]
def call(method, path, data=None):
    req = u.Request(url + path, data=data, method=method, headers={"X-Auth-Token": token})
    with open_(req) as resp:
        return resp.status, resp.read().decode()
put_container = call("PUT", "/molecule")[0]
put_object = call("PUT", "/molecule/hello.txt", b"hello from molecule")[0]
got = call("GET", "/molecule/hello.txt")
listing = call("GET", "/molecule")[1].split()
call("DELETE", "/molecule/hello.txt"); call("DELETE", "/molecule")
print(json.dumps({"url": url, "put_container": put_container, "put_object": put_object, "get": got,
                  "listing": listing}))
"""


@pytest.fixture(scope="module")
def bind_ip(host):
    conf = host.file("/etc/swift/proxy-server.conf").content_string
    return re.search(r"^bind_ip = (\S+)$", conf, re.M).group(1)


@pytest.fixture(scope="module")
def ca_file():
    """The certificate the role copied to the controller (object_proxy_tls_ca_dir)."""
    name = os.environ.get("MINISTACK_MOLECULE_NAME", "molecule-role")
    path = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "swift" / f"proxy-{name}.crt"
    assert path.is_file(), path
    return str(path)


@pytest.mark.parametrize("service", ["swift-proxy-server", "memcached"])
def test_the_service_runs(host, service):
    assert host.service(service).is_running


def test_the_proxy_listens_on_the_hosts_address_only(host, bind_ip):
    assert bind_ip not in ("0.0.0.0", "127.0.0.1", "::")
    assert bind_ip in host.check_output("hostname -I").split()
    assert host.socket(f"tcp://{bind_ip}:8080").is_listening
    assert not host.socket("tcp://0.0.0.0:8080").is_listening
    refused = host.run("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 8080), timeout=5)\"")
    assert refused.rc != 0 and "ConnectionRefusedError" in refused.stderr


def test_the_key_is_kept_like_the_passwords(host):
    conf = host.file("/etc/swift/proxy-server.conf")
    assert conf.user == "root" and conf.group == "swift" and conf.mode == 0o640
    assert "cert_file = /etc/swift/proxy-tls.crt" in conf.content_string
    key = host.file("/etc/swift/proxy-tls.key")
    assert key.user == "root" and key.group == "swift" and key.mode == 0o640


def test_https_with_the_roles_certificate_answers_from_the_controller(bind_ip, ca_file):
    tls = ssl.create_default_context(cafile=ca_file)  # checks the chain and that bind_ip is a name of it
    with urllib.request.urlopen(f"https://{bind_ip}:8080/healthcheck", timeout=30, context=tls) as resp:
        assert resp.read().decode() == "OK"
    req = urllib.request.Request(f"https://{bind_ip}:8080/auth/v1.0",
                                 headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
    with urllib.request.urlopen(req, timeout=30, context=tls) as resp:
        assert resp.headers["X-Storage-Url"] == f"https://{bind_ip}:8080/v1/AUTH_test"


def test_plain_http_and_an_unknown_certificate_are_refused(bind_ip):
    conn = http.client.HTTPConnection(bind_ip, 8080, timeout=15)
    with pytest.raises((ConnectionError, http.client.HTTPException, socket.timeout)):
        conn.request("GET", "/auth/v1.0", headers={"X-Auth-User": "test:tester", "X-Auth-Key": "testing"})
        conn.getresponse()
    conn.close()
    with pytest.raises(urllib.error.URLError) as err:  # the system's CAs do not vouch for it
        urllib.request.urlopen(f"https://{bind_ip}:8080/healthcheck", timeout=15,
                               context=ssl.create_default_context())
    assert isinstance(err.value.reason, ssl.SSLCertVerificationError), err.value


def test_a_client_stores_and_reads_an_object_through_the_proxy(host, bind_ip):
    result = json.loads(host.check_output("python3 -c %s %s %s", ROUND_TRIP, f"https://{bind_ip}:8080",
                                          "/etc/swift/proxy-tls.crt"))
    assert result["url"] == f"https://{bind_ip}:8080/v1/AUTH_test"
    assert result["put_container"] in (201, 202) and result["put_object"] == 201
    assert result["get"] == [200, "hello from molecule"]
    assert result["listing"] == ["hello.txt"]
