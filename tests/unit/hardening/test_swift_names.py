"""Issue 13 item 5: Swift names with '.' or '..' segments never reach the wire collapsed.

The object modules run in-process through openstacksdk's real HTTP stack (keystoneauth's
v1password, requests, urllib3) against a small HTTP server on 127.0.0.1 that answers like a
Swift proxy with tempauth and records every request line: the assertion is on what the client
sends, which is where the probe saw `.`/`..` resolved (container '.' deleting the account,
``scratch/../photos/2024/cat.jpg`` deleting ``photos/2024/cat.jpg``)."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.helpers.inproc import call

pytest.importorskip("openstack")


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *_args):
        pass

    def _answer(self):
        self.seen.append((self.command, self.path))
        if self.path.startswith("/auth/"):
            self.send_response(200)
            self.send_header("X-Storage-Url", f"http://127.0.0.1:{self.server.server_port}/v1/AUTH_demo")
            self.send_header("X-Auth-Token", "AUTH_tk0")
        elif self.command == "HEAD":
            # Everything exists: a collapsed path would go on to its DELETE.
            self.send_response(204)
            self.send_header("X-Container-Object-Count", "0")
            self.send_header("X-Timestamp", "1700000000.00000")
            self.send_header("Etag", "d41d8cd98f00b204e9800998ecf8427e")
        else:
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _answer


@pytest.fixture(scope="module")
def proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def auth(proxy):
    return {"auth_type": "v1password",
            "auth": {"auth_url": f"http://127.0.0.1:{proxy.server_port}/auth/v1.0", "username": "demo:demo",
                     "password": "pw"}}


@pytest.mark.parametrize("module, args, field", [
    ("object_container", {"name": ".", "state": "absent"}, "name"),
    ("object_container", {"name": "..", "state": "absent"}, "name"),
    ("object_container", {"name": "..", "metadata": {"a": "b"}}, "name"),
    ("object", {"container": "photos", "name": "scratch/../photos/2024/cat.jpg", "state": "absent"}, "name"),
    ("object", {"container": "photos", "name": "./cat.jpg", "state": "absent"}, "name"),
    ("object", {"container": "photos", "name": "a/./b", "data": "x"}, "name"),
    ("object", {"container": "photos", "name": "..", "state": "absent"}, "name"),
    ("object", {"container": ".", "name": "cat.jpg", "state": "absent"}, "container"),
    ("object_info", {"container": "photos", "name": "a/../b"}, "name"),
    ("object_container_info", {"name": ".."}, "name"),
])
def test_dot_segments_are_refused_before_any_request(proxy, module, args, field):
    Recorder.seen.clear()
    result = call(module, {**args, **auth(proxy)}, {})
    storage = [req for req in Recorder.seen if not req[1].startswith("/auth/")]
    assert storage == [], f"requests reached the proxy: {storage}"
    assert result.get("failed") and result["msg"].startswith(f"{field}:"), result


def test_plain_names_still_reach_swift_as_written(proxy):
    Recorder.seen.clear()
    result = call("object", {"container": "photos", "name": "2024/..cat.jpg", "state": "absent",
                             **auth(proxy)}, {})
    assert not result.get("failed"), result
    assert ("DELETE", "/v1/AUTH_demo/photos/2024/..cat.jpg") in Recorder.seen
