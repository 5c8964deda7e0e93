"""Storage policies, the proxy middlewares and S3 on the cluster the roles deployed.

gold (3 replicas, default), silver (2 replicas) and ec42 (erasure coding 4+2: six fragments on
six of the eight devices), the object expirer, domain_remap and s3api through boto3.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import subprocess
import time
import urllib.request
import uuid

import pytest

from .conftest import DEVICES_ROOT, PROXY, STORAGE_DOMAIN
from .functest import VENV
from .test_functional import functest, functest_s3  # noqa: F401 - the fixtures build the venv with boto3
from .test_modules import _one

# The test command runs the /info check and the erasure-coded 20 MiB test (issue 15's budget: one EC
# and one cross-policy test, the latter in test_functional.py's subset); the rest is `full`.
pytestmark = pytest.mark.slow


def _files(name_hash: str, kind: str) -> list[pathlib.Path]:
    return sorted(pathlib.Path(DEVICES_ROOT).glob(f"d*/{kind}/*/*/{name_hash}/*"))


def _hash(swift_aio, path: str) -> str:
    secret = json.loads((swift_aio.cluster_dir / "swift-hash.json").read_text())
    return hashlib.md5((secret["prefix"] + path + secret["suffix"]).encode()).hexdigest()


def test_info_lists_the_policies_and_middlewares(swift_aio):
    with urllib.request.urlopen(PROXY + "/info", timeout=10) as resp:
        info = json.load(resp)
    assert [(p["name"], p.get("default", False)) for p in info["swift"]["policies"]] == [
        ("gold", True), ("silver", False), ("ec42", False)]
    for middleware in ("s3api", "domain_remap", "etag_quoter", "tempauth"):
        assert middleware in info, middleware
    assert info["s3api"]["s3_acl"] is True and info["swift"]["allow_open_expired"] is True
    assert info["swift"]["allow_account_management"] is True  # the functional suite's setting here


def test_ec_container_keeps_six_fragments_and_returns_20_mib(swift_aio):
    conn = swift_aio.swiftclient()
    conn.put_container("ec-20m", headers={"X-Storage-Policy": "ec42"})
    assert conn.head_container("ec-20m")["x-storage-policy"] == "ec42"
    body = os.urandom(20 * 1024 * 1024)
    etag = conn.put_object("ec-20m", "big", body)
    assert etag == hashlib.md5(body).hexdigest()
    headers, back = conn.get_object("ec-20m", "big")
    assert back == body and headers["etag"] == etag
    _, part = conn.get_object("ec-20m", "big", headers={"Range": "bytes=5000000-5000099"})
    assert part == body[5000000:5000100]
    frags = [p for p in _files(_hash(swift_aio, "/AUTH_test/ec-20m/big"), "objects-2") if p.suffix == ".data"]
    # Six fragments (<timestamp>#<index>#d.data), each index once, on six different devices.
    assert sorted(int(p.name.split("#")[1]) for p in frags) == [0, 1, 2, 3, 4, 5]
    assert len({p.parts[3] for p in frags}) == 6
    assert sum(p.stat().st_size for p in frags) < 1.6 * len(body)  # 6/4 of the body plus headers


@pytest.mark.full
def test_silver_keeps_two_replicas(swift_aio):
    conn = swift_aio.swiftclient()
    conn.put_container("silver-c", headers={"X-Storage-Policy": "silver"})
    conn.put_object("silver-c", "o", b"two copies")
    copies = [p for p in _files(_hash(swift_aio, "/AUTH_test/silver-c/o"), "objects-1") if p.suffix == ".data"]
    assert len({p.parts[3] for p in copies}) == 2


@pytest.mark.full
def test_expirer_removes_an_object_past_its_delete_at(swift_aio):
    conn = swift_aio.swiftclient()
    conn.put_container("expiring")
    conn.put_object("expiring", "brief", b"gone soon", headers={"X-Delete-After": "2"})
    name_hash = _hash(swift_aio, "/AUTH_test/expiring/brief")
    assert any(p.suffix == ".data" for p in _files(name_hash, "objects"))
    deadline = time.time() + 90
    while any(p.suffix == ".data" for p in _files(name_hash, "objects")):
        assert time.time() < deadline, "the object expirer did not delete the object within 90 s"
        time.sleep(2)
    assert any(p.suffix == ".ts" for p in _files(name_hash, "objects"))


@pytest.mark.full
def test_domain_remap_serves_container_host_names(swift_aio):
    conn = swift_aio.swiftclient()
    conn.put_container("remapped", headers={"X-Container-Read": ".r:*"})
    conn.put_object("remapped", "page.txt", b"by host name")
    request = urllib.request.Request(PROXY + "/page.txt", headers={"Host": f"remapped.AUTH-test.{STORAGE_DOMAIN}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.read() == b"by host name"


S3_SCRIPT = r"""
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id="test:tester", aws_secret_access_key="testing",
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
s3.create_bucket(Bucket="s3-bucket")
s3.put_object(Bucket="s3-bucket", Key="hello", Body=b"hello s3")
assert s3.get_object(Bucket="s3-bucket", Key="hello")["Body"].read() == b"hello s3"
up = s3.create_multipart_upload(Bucket="s3-bucket", Key="multi")
parts = []
for n, chunk in enumerate((b"a" * 5 * 1024 * 1024, b"b" * 1024), start=1):
    r = s3.upload_part(Bucket="s3-bucket", Key="multi", UploadId=up["UploadId"], PartNumber=n, Body=chunk)
    parts.append({"PartNumber": n, "ETag": r["ETag"]})
s3.complete_multipart_upload(Bucket="s3-bucket", Key="multi", UploadId=up["UploadId"],
                             MultipartUpload={"Parts": parts})
body = s3.get_object(Bucket="s3-bucket", Key="multi")["Body"].read()
assert body == b"a" * 5 * 1024 * 1024 + b"b" * 1024, len(body)
print("ok", [b["Name"] for b in s3.list_buckets()["Buckets"]])
"""


@pytest.mark.full
def test_s3_bucket_object_and_multipart_upload_with_boto3(swift_aio, functest_s3):  # noqa: F811
    proc = subprocess.run([str(VENV / "bin" / "python"), "-c", S3_SCRIPT, PROXY], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and "s3-bucket" in proc.stdout, proc.stderr[-3000:]
    # The bucket is a Swift container of the account test (tempauth's account:user as access key).
    assert swift_aio.swiftclient().head_object("s3-bucket", "multi")["content-length"] == str(5 * 1024 * 1024 + 1024)


@pytest.mark.full
def test_container_module_storage_policy(swift_aio, tmp_path):
    name = f"pol-{uuid.uuid4().hex[:6]}"
    _, res = _one(tmp_path, "object_container", {"name": name, "storage_policy": "ec42"}, check=True)
    assert res["changed"] and res["container"]["storage_policy"] == "ec42"
    _, res = _one(tmp_path, "object_container", {"name": name, "storage_policy": "ec42"})
    assert res["changed"] and res["container"]["storage_policy"] == "ec42"
    _, res = _one(tmp_path, "object_container", {"name": name, "storage_policy": "EC42"})
    assert not res["changed"]
    _, res = _one(tmp_path, "object_container", {"name": name, "storage_policy": "silver"})
    assert res.get("failed") and "already has storage policy ec42" in res["msg"]
    _, res = _one(tmp_path, "object_container", {"name": name + "x", "storage_policy": "bronze"})
    assert res.get("failed") and res["msg"].startswith("storage_policy: the cluster has no policy 'bronze'")
    assert "gold, silver, ec42" in res["msg"]
    _, res = _one(tmp_path, "object_container", {"name": name + "a", "storage_policy": "yellow"})  # alias
    assert res["container"]["storage_policy"] == "gold"
    _, res = _one(tmp_path, "object_container_info", {"name": name})
    assert res["containers"][0]["storage_policy"] == "ec42"
