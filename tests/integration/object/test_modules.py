"""The object-store modules against the cluster the roles deployed: results, idempotence,
check mode, diff, ETag checks, segmented uploads, metadata, ACLs and clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import pytest

from .conftest import AUTH_URL, run_playbook

pytestmark = pytest.mark.slow


def _task_playbook(tmp_path, tasks: list[dict]) -> str:
    import yaml

    play = [
        {
            "name": "object-store module task",
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {"swift_auth": {"auth_url": AUTH_URL, "username": "test:tester", "password": "testing"}},
            "tasks": tasks,
        }
    ]
    path = tmp_path / f"tasks-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return str(path)


def _one(tmp_path, module, args, *, check=False, diff=True, name="t"):
    task = {"name": name, f"ministack.cloud.{module}": {**args, "auth": "{{ swift_auth }}"}}
    run = run_playbook(tmp_path, _task_playbook(tmp_path, [task]), check=check, diff=diff)
    if name in run.failures:
        return run, {**run.failures[name][0], "failed": True}
    return run, run.result(name)


@pytest.fixture
def files(tmp_path):
    source = tmp_path / "hello.txt"
    source.write_bytes(b"hello, object store\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    return source, big


def test_walkthrough_modules_second_run_unchanged_and_check_mode(swift_aio, tmp_path, files):
    source, big = files
    container = f"walk-{uuid.uuid4().hex[:6]}"
    extravars = {
        "swift_auth_url": AUTH_URL,
        "swift_password": "testing",
        "container": container,
        "source_file": str(source),
        "big_file": str(big),
        "download_to": str(tmp_path / "big.out"),
    }
    # Check mode first: it reports the changes and writes nothing.
    dry = run_playbook(tmp_path, "modules.yml", extravars=extravars, check=True, diff=True)
    assert dry.changed() >= 1
    assert container not in [c["name"] for c in swift_aio.swiftclient().get_account()[1]]

    first = run_playbook(tmp_path, "modules.yml", extravars=extravars, diff=True)
    assert first.rc == 0, first.stdout[-4000:]
    assert set(first.changed_tasks()) == {
        "Create the container",
        "Upload a file",
        "Store inline data",
        "Upload a large file in segments",
        "Download the large file",
    }
    assert (tmp_path / "big.out").read_bytes() == big.read_bytes()
    shown = first.result("Show the file")["objects"][0]
    assert shown["etag"] == hashlib.md5(source.read_bytes()).hexdigest()
    assert shown["properties"] == {"purpose": "demo"} and shown["container"] == container
    listing = {o["name"]: o for o in first.result("List the container")["objects"]}
    assert set(listing) == {"big.bin", "hello.txt", "inline/note.txt"}
    assert listing["big.bin"]["bytes"] == big.stat().st_size
    cont = first.result("Show the container")["containers"][0]
    assert cont["read_acl"] == ".r:*,.rlistings" and cont["properties"] == {"owner": "walkthrough"}
    assert first.result("Show the account")["account"]["account"] == "AUTH_test"
    assert "testing" not in first.stdout  # the password never shows

    second = run_playbook(tmp_path, "modules.yml", extravars=extravars, diff=True)
    assert second.rc == 0 and second.changed() == 0, second.changed_tasks()
    again = run_playbook(tmp_path, "modules.yml", extravars=extravars, check=True)
    assert again.rc == 0 and again.changed() == 0, again.changed_tasks()

    # The big file really is a static large object of 1 MiB segments, readable by swiftclient.
    headers, body = swift_aio.swiftclient().get_object(container, "big.bin")
    assert headers.get("x-static-large-object") == "True" and body == big.read_bytes()
    segments = swift_aio.swiftclient().get_container(f"{container}_segments")[1]
    assert len(segments) == 4


def test_object_metadata_post_keeps_every_key(swift_aio, tmp_path):
    conn = swift_aio.swiftclient()
    conn.put_container("meta")
    conn.put_object("meta", "o", b"x", headers={"X-Object-Meta-A": "1", "X-Object-Meta-B": "2"})
    _, res = _one(tmp_path, "object", {"container": "meta", "name": "o", "metadata": {"C": "3"}})
    assert res["changed"] and res["object"]["properties"] == {"a": "1", "b": "2", "c": "3"}
    assert res["diff"]["before"]["properties"] == {"a": "1", "b": "2"}
    head = conn.head_object("meta", "o")
    assert (head["x-object-meta-a"], head["x-object-meta-b"], head["x-object-meta-c"]) == ("1", "2", "3")
    _, res = _one(tmp_path, "object", {"container": "meta", "name": "o", "delete_metadata_keys": ["a"]})
    assert res["changed"] and res["object"]["properties"] == {"b": "2", "c": "3"}
    _, res = _one(tmp_path, "object", {"container": "meta", "name": "o", "metadata": {"b": "2"}})
    assert not res["changed"]


def test_object_reupload_only_when_content_differs(swift_aio, tmp_path):
    swift_aio.swiftclient().put_container("etag")
    args = {"container": "etag", "name": "n", "data": "one"}
    _, res = _one(tmp_path, "object", args)
    assert res["changed"] and res["object"]["etag"] == hashlib.md5(b"one").hexdigest()
    _, res = _one(tmp_path, "object", args)
    assert not res["changed"]
    _, res = _one(tmp_path, "object", {**args, "data": "two"}, check=True)
    assert res["changed"] and res["object"]["etag"] == hashlib.md5(b"two").hexdigest()
    assert swift_aio.swiftclient().get_object("etag", "n")[1] == b"one"  # check mode wrote nothing
    _, res = _one(tmp_path, "object", {**args, "data": "two"})
    assert res["changed"] and swift_aio.swiftclient().get_object("etag", "n")[1] == b"two"


def test_replacing_a_segmented_object_removes_its_old_segments(swift_aio, tmp_path):
    conn = swift_aio.swiftclient()
    conn.put_container("slo")
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_bytes(os.urandom(2 * 1024 * 1024 + 1))
    two.write_bytes(os.urandom(3 * 1024 * 1024 + 1))
    _one(tmp_path, "object", {"container": "slo", "name": "f", "filename": str(one), "segment_size": "1M"})
    assert len(conn.get_container("slo_segments")[1]) == 3
    _, res = _one(
        tmp_path, "object", {"container": "slo", "name": "f", "filename": str(two), "segment_size": "1M"}
    )
    assert res["changed"] and res["object"]["content_length"] == two.stat().st_size
    assert len(conn.get_container("slo_segments")[1]) == 4
    assert conn.get_object("slo", "f")[1] == two.read_bytes()
    _, res = _one(tmp_path, "object", {"container": "slo", "name": "f", "state": "absent"})
    assert res["changed"] and conn.get_container("slo_segments")[1] == []


def test_container_acls_metadata_and_delete_with_objects(swift_aio, tmp_path):
    _, res = _one(
        tmp_path, "object_container", {"name": "acl", "write_ACL": "test2:tester2", "metadata": {"k": "v"}}
    )
    assert res["changed"] and res["container"]["write_acl"] == "test2:tester2"
    # Another account's user may now write, as the ACL says.
    other = swift_aio.swiftclient("test2:tester2", "testing2")
    url = swift_aio.swiftclient().get_auth()[0]
    import swiftclient

    swiftclient.put_object(url, other.get_auth()[1], "acl", "from-test2", b"hi")
    _, res = _one(
        tmp_path, "object_container", {"name": "acl", "write_ACL": "", "delete_metadata_keys": ["k"]}
    )
    assert res["changed"] and res["container"]["write_acl"] is None and res["container"]["properties"] == {}
    _, res = _one(tmp_path, "object_container", {"name": "acl", "state": "absent"})
    assert "not empty (1 objects)" in res["msg"] and "delete_with_all_objects" in res["msg"]
    _, res = _one(
        tmp_path,
        "object_container",
        {"name": "acl", "state": "absent", "delete_with_all_objects": True},
        check=True,
    )
    assert res["changed"] and swift_aio.swiftclient().head_container("acl")
    _, res = _one(
        tmp_path, "object_container", {"name": "acl", "state": "absent", "delete_with_all_objects": True}
    )
    assert res["changed"]
    _, res = _one(tmp_path, "object_container", {"name": "acl", "state": "absent"})
    assert not res["changed"]


def test_errors_name_the_field(swift_aio, tmp_path):
    _, res = _one(tmp_path, "object", {"container": "nope-" + uuid.uuid4().hex[:4], "name": "x", "data": "d"})
    assert res["failed"] and "not found (HTTP 404)" in res["msg"] and "object_container" in res["msg"]
    _, res = _one(tmp_path, "object_container", {"name": "a/b"})
    assert res["failed"] and res["msg"].startswith("name:")
    _, res = _one(tmp_path, "object_container", {"name": "m", "metadata": {"k": "v" * 300}})
    assert res["failed"] and "longer than 256 bytes" in res["msg"]
    _, res = _one(tmp_path, "object", {"container": "c", "name": "x", "data": "d", "filename": "/etc/hosts"})
    assert res["failed"] and "mutually exclusive" in res["msg"]
    task = {
        "name": "t",
        "ministack.cloud.object_account_info": {
            "auth": {"auth_url": AUTH_URL, "username": "test:tester", "password": "wrong-password-123"}
        },
    }
    run = run_playbook(tmp_path, _task_playbook(tmp_path, [task]))
    msg = json.dumps(run.failures["t"][0])
    assert "401" in msg or "Unauthorized" in msg
    assert "wrong-password-123" not in run.stdout and "wrong-password-123" not in msg
