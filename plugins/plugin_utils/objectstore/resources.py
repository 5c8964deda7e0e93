# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers, objects and the account: read, compare, apply (or only report, in check mode)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time

from .client import ObjectStoreError, dot_segment, metadata_of

# Swift's default constraints (swift/common/constraints.py).
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_OVERALL = 4096
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_FILE_SIZE = 5368709122
CHUNK = 1048576


def _check_metadata(field: str, metadata: dict | None) -> dict:
    """Lower-cased keys (Swift's are case-insensitive), values as strings; Swift's limits."""
    if not metadata:
        return {}
    out = {}
    for key, value in metadata.items():
        key = str(key).strip().lower()
        if not key or any(c in key for c in " :\r\n"):
            raise ObjectStoreError(f"{field}: invalid key {key!r}; use letters, digits, '-' and '_'.")
        value = "" if value is None else str(value)
        if len(key.encode()) > MAX_META_NAME:
            raise ObjectStoreError(f"{field}: key {key!r} is longer than {MAX_META_NAME} bytes.")
        if len(value.encode()) > MAX_META_VALUE:
            raise ObjectStoreError(f"{field}: the value of {key!r} is longer than {MAX_META_VALUE} bytes.")
        out[key] = value
    if len(out) > MAX_META_COUNT:
        raise ObjectStoreError(f"{field}: {len(out)} keys; Swift allows {MAX_META_COUNT}.")
    total = sum(len(k.encode()) + len(v.encode()) for k, v in out.items())
    if total > MAX_META_OVERALL:
        raise ObjectStoreError(f"{field}: {total} bytes of keys and values; Swift allows {MAX_META_OVERALL}.")
    return out


def _check_container_name(field: str, name: str) -> str:
    if not name or "/" in name or len(name.encode()) > MAX_CONTAINER_NAME:
        raise ObjectStoreError(
            f"{field}: {name!r} is not a valid container name (1 to {MAX_CONTAINER_NAME} bytes, no '/')."
        )
    if dot_segment(name):
        raise ObjectStoreError(f"{field}: {name!r} is not a valid container name: '.' and '..' would be "
                               "resolved by HTTP clients to the account itself; choose another name.")
    return name


def _check_object_name(field: str, name: str) -> str:
    if not name or len(name.encode()) > MAX_OBJECT_NAME:
        raise ObjectStoreError(f"{field}: {name!r} is not a valid object name (1 to {MAX_OBJECT_NAME} bytes).")
    if dot_segment(name):
        raise ObjectStoreError(f"{field}: {name!r} has a '.' or '..' path segment, which HTTP clients resolve "
                               "before the request reaches Swift (another object would be read, written or "
                               "deleted); remove those segments from the name.")
    return name


def _account_of(swift) -> str:
    try:
        return swift.store.get_endpoint().rstrip("/").rsplit("/", 1)[-1]
    except Exception:  # an unreachable endpoint shows up on the first request anyway
        return ""


class Resource:
    read_only = False

    def __init__(self, swift, params: dict, check_mode: bool = False):
        self.swift = swift
        self.params = params
        self.check_mode = check_mode
        self.warnings: list[str] = []


# ---------------------------------------------------------------- containers
def container_view(account: str, name: str, headers: dict) -> dict:
    """The fields of ``openstack container show``."""
    return {
        "account": account,
        "container": name,
        "bytes_used": int(headers.get("x-container-bytes-used", 0)),
        "object_count": int(headers.get("x-container-object-count", 0)),
        "read_acl": headers.get("x-container-read"),
        "write_acl": headers.get("x-container-write"),
        "storage_policy": headers.get("x-storage-policy"),
        "properties": metadata_of(headers, "container"),
    }


class Container(Resource):
    """Create, update (metadata, ACLs) or delete one container."""

    def run(self) -> dict:
        p = self.params
        name = _check_container_name("name", p["name"])
        set_meta = _check_metadata("metadata", p.get("metadata"))
        drop_keys = [str(k).lower() for k in p.get("delete_metadata_keys") or []]
        both = sorted(set(set_meta) & set(drop_keys))
        if both:
            raise ObjectStoreError(
                f"metadata and delete_metadata_keys both name {', '.join(both)}; keep each key in one of them."
            )
        account = _account_of(self.swift)
        headers = self.swift.head(name)
        before = container_view(account, name, headers) if headers is not None else None
        policy = self._policy(p.get("storage_policy")) if p["state"] == "present" else None
        if policy and before is not None and (before["storage_policy"] or "").lower() != policy.lower():
            raise ObjectStoreError(
                f"storage_policy: container {name} already has storage policy {before['storage_policy']}; a "
                "container's policy cannot change (HTTP 409). Leave storage_policy out, or delete the container "
                "and create it again."
            )

        if p["state"] == "absent":
            if before is None:
                return {"changed": False, "container": None, "diff": {"before": {}, "after": {}}}
            if before["object_count"] and not p.get("delete_with_all_objects"):
                raise ObjectStoreError(
                    f"Container {name} is not empty ({before['object_count']} objects) (HTTP 409). "
                    "Set delete_with_all_objects=true to delete it with its objects."
                )
            if not self.check_mode:
                self._delete(name, bool(p.get("delete_with_all_objects")))
            return {"changed": True, "container": None, "diff": {"before": before, "after": {}}}

        request: dict[str, str] = {}
        current_meta = before["properties"] if before else {}
        for key, value in set_meta.items():
            if current_meta.get(key) != value:
                request[f"X-Container-Meta-{key}"] = value
        for key in drop_keys:
            if key in current_meta:
                request[f"X-Remove-Container-Meta-{key}"] = "x"
        for acl, header in (("read_ACL", "X-Container-Read"), ("write_ACL", "X-Container-Write")):
            wanted = p.get(acl)
            if wanted is None:
                continue
            have = (before or {}).get(acl.lower()) or ""
            if wanted != have:
                if wanted:
                    request[header] = wanted
                else:
                    request["X-Remove-" + header[2:]] = "x"
        after_meta = {k: v for k, v in {**current_meta, **set_meta}.items() if k not in drop_keys}
        if before is not None and not request:
            return {"changed": False, "container": before, "diff": {"before": before, "after": before}}
        if self.check_mode:
            after = dict(before or container_view(account, name, {}))
            after["properties"] = after_meta
            for acl in ("read_ACL", "write_ACL"):
                if p.get(acl) is not None:
                    after[acl.lower()] = p[acl] or None
            if before is None and policy:
                after["storage_policy"] = policy
        else:
            if before is None:
                create = {k: v for k, v in request.items() if not k.startswith("X-Remove-")}
                if policy:
                    create["X-Storage-Policy"] = policy
                self.swift.request("PUT", name, headers=create)
            else:
                self.swift.request("POST", name, headers=request)
            after = container_view(account, name, self.swift.head(name) or {})
        return {"changed": True, "container": after, "diff": {"before": before or {}, "after": after}}

    def _policy(self, wanted: str | None) -> str | None:
        """The policy's name as the cluster spells it (``wanted`` may be an alias), from GET /info."""
        if wanted is None:
            return None
        if not isinstance(wanted, str) or not wanted.strip():
            raise ObjectStoreError("storage_policy must be a policy name such as gold, or left out for the default.")
        policies = self.swift.policies()
        if policies is None:  # /info disabled: Swift itself checks the name on PUT
            return wanted
        for item in policies:
            names = [item.get("name", "")] + [a.strip() for a in str(item.get("aliases") or "").split(",")]
            if wanted.lower() in (n.lower() for n in names if n):
                return item["name"]
        known = ", ".join(item.get("name", "?") for item in policies)
        raise ObjectStoreError(f"storage_policy: the cluster has no policy {wanted!r}; its policies are {known}.")

    def _delete(self, name: str, with_objects: bool) -> None:
        # Listings are eventually consistent: a just-deleted object may still be listed and a
        # just-emptied container may still answer 409 for a moment.
        for _attempt in range(10):
            if with_objects:
                for entry in self.swift.listing(name):
                    self.swift.request("DELETE", name, entry["name"], ok=(204, 404))
            resp = self.swift.request("DELETE", name, ok=(204, 404, 409))
            if resp.status_code in (204, 404):
                return
            time.sleep(0.5)
        raise ObjectStoreError(f"Container {name} could not be deleted: it still lists objects (HTTP 409).")


class ContainerInfo(Resource):
    read_only = True

    def run(self) -> dict:
        account = _account_of(self.swift)
        name = self.params.get("name")
        if name:
            headers = self.swift.head(_check_container_name("name", name))
            containers = [container_view(account, name, headers)] if headers is not None else []
        else:
            containers = [
                {"name": c["name"], "count": c.get("count", 0), "bytes": c.get("bytes", 0)}
                for c in self.swift.listing(None, prefix=self.params.get("prefix"))
            ]
        return {"changed": False, "containers": containers}


# ---------------------------------------------------------------- objects
def object_view(account: str, container: str, name: str, headers: dict) -> dict:
    """The fields of ``openstack object show``."""
    view = {
        "account": account,
        "container": container,
        "object": name,
        "content-length": int(headers.get("content-length", 0)),
        "content-type": headers.get("content-type"),
        "etag": (headers.get("etag") or "").strip('"'),
        "last-modified": headers.get("last-modified"),
        "properties": metadata_of(headers, "object"),
    }
    if headers.get("x-static-large-object", "").lower() == "true":
        view["x-static-large-object"] = True
    return view


class _Digest:
    """MD5 of the whole and of each segment, for plain and static-large-object ETags."""

    def __init__(self, segment_size: int | None):
        self.segment_size = segment_size
        self.whole = hashlib.md5()
        self.segments: list[tuple[str, int]] = []
        self._seg = hashlib.md5()
        self._seg_len = 0
        self.size = 0

    def update(self, data: bytes) -> None:
        self.whole.update(data)
        self.size += len(data)
        if not self.segment_size:
            self._seg.update(data)
            self._seg_len += len(data)
            return
        view = memoryview(data)
        while view:
            room = self.segment_size - self._seg_len
            part = view[:room]
            self._seg.update(part)
            self._seg_len += len(part)
            view = view[len(part) :]
            if self._seg_len == self.segment_size:
                self._close_segment()

    def _close_segment(self):
        self.segments.append((self._seg.hexdigest(), self._seg_len))
        self._seg = hashlib.md5()
        self._seg_len = 0

    def finish(self) -> _Digest:
        if self._seg_len:
            self._close_segment()
        return self

    @property
    def md5(self) -> str:
        return self.whole.hexdigest()

    @property
    def slo_etag(self) -> str:
        return hashlib.md5("".join(etag for etag, _size in self.segments).encode()).hexdigest()


def _digest_file(path: str, segment_size: int | None = None) -> _Digest:
    digest = _Digest(segment_size)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.finish()


def _digest_file_by_sizes(path: str, sizes: list[int]) -> str | None:
    """SLO ETag of a local file cut at the given segment sizes (None when the sizes differ)."""
    etags = []
    with open(path, "rb") as fh:
        for size in sizes:
            seg = hashlib.md5()
            left = size
            while left:
                block = fh.read(min(CHUNK, left))
                if not block:
                    return None
                seg.update(block)
                left -= len(block)
            etags.append(seg.hexdigest())
        if fh.read(1):
            return None
    return hashlib.md5("".join(etags).encode()).hexdigest()


def _segment_size(value) -> int:
    if value is None:
        return 1024**3
    if isinstance(value, int):
        size = value
    else:
        from ansible.module_utils.common.text.formatters import human_to_bytes

        try:
            size = human_to_bytes(str(value))
        except ValueError as exc:
            raise ObjectStoreError(
                f"segment_size: {value!r} is not a size (bytes, or with a unit such as 100M)."
            ) from exc
    if size < 1 or size > MAX_FILE_SIZE:
        raise ObjectStoreError(f"segment_size: {size} is out of range (1 byte to {MAX_FILE_SIZE} bytes).")
    return size


class Object(Resource):
    """Upload (file or inline data), download, update metadata of, or delete one object."""

    def run(self) -> dict:
        p = self.params
        self.container = _check_container_name("container", p["container"])
        self.name = _check_object_name("name", p["name"])
        self.account = _account_of(self.swift)
        self.set_meta = _check_metadata("metadata", p.get("metadata"))
        self.drop_keys = [str(k).lower() for k in p.get("delete_metadata_keys") or []]
        headers = self.swift.head(self.container, self.name)
        before = (
            object_view(self.account, self.container, self.name, headers) if headers is not None else None
        )
        if p["state"] == "absent":
            return self._absent(before)
        if p.get("dest"):
            return self._download(before)
        return self._present(before)

    # -- delete
    def _absent(self, before):
        if before is None:
            return {"changed": False, "object": None, "diff": {"before": {}, "after": {}}}
        if not self.check_mode:
            query = {"multipart-manifest": "delete"} if before.get("x-static-large-object") else None
            self.swift.request("DELETE", self.container, self.name, ok=(200, 204, 404), query=query)
        return {"changed": True, "object": None, "diff": {"before": before, "after": {}}}

    # -- upload and metadata
    def _present(self, before):
        p = self.params
        source = None
        if p.get("filename") is not None:
            path = os.path.expanduser(p["filename"])
            if not os.path.isfile(path):
                raise ObjectStoreError(f"filename: {p['filename']} is not a readable file on the controller.")
            source = ("file", path)
        elif p.get("data") is not None:
            source = ("data", p["data"].encode() if isinstance(p["data"], str) else bytes(p["data"]))
        if source is None and before is None:
            raise ObjectStoreError(
                f"Object {self.container}/{self.name} not found (HTTP 404); give filename or data to upload it."
            )
        if self.swift.head(self.container) is None:
            raise ObjectStoreError(
                f"Container {self.container} not found (HTTP 404); create it first with ministack.cloud.object_container."
            )

        current_meta = before["properties"] if before else {}
        want_meta = {k: v for k, v in {**current_meta, **self.set_meta}.items() if k not in self.drop_keys}
        content_type = p.get("content_type")

        upload = None
        if source is not None:
            seg_size = _segment_size(p.get("segment_size"))
            digest = self._digest(source, seg_size)
            if digest.size > MAX_FILE_SIZE and digest.size <= seg_size:
                raise ObjectStoreError(
                    f"segment_size: {digest.size} bytes exceed Swift's {MAX_FILE_SIZE}; use a smaller segment_size."
                )
            segmented = digest.size > seg_size
            etag = digest.slo_etag if segmented else digest.md5
            same = (
                before is not None
                and before["etag"] == etag
                and before["content-length"] == digest.size
                and bool(before.get("x-static-large-object")) == segmented
            )
            if not same:
                upload = (source, digest, segmented, etag)

        meta_changed = before is not None and want_meta != current_meta
        type_changed = (
            before is not None and content_type is not None and content_type != before["content-type"]
        )
        if before is not None and upload is None and not meta_changed and not type_changed:
            return {"changed": False, "object": before, "diff": {"before": before, "after": before}}

        if self.check_mode:
            after = dict(before or object_view(self.account, self.container, self.name, {}))
            after["properties"] = want_meta
            if content_type:
                after["content-type"] = content_type
            if upload:
                after["etag"], after["content-length"] = upload[3], upload[1].size
            return {"changed": True, "object": after, "diff": {"before": before or {}, "after": after}}

        meta_headers = {f"X-Object-Meta-{k}": v for k, v in want_meta.items()}
        if upload is not None:
            old_segments = self._segments_of(before) if before and before.get("x-static-large-object") else []
            if upload[2]:
                new_segments = self._put_slo(upload, meta_headers, content_type)
            else:
                self._put_plain(upload, meta_headers, content_type)
                new_segments = []
            stale = [s for s in old_segments if s not in new_segments]
            for seg_container, seg_name in stale:
                self.swift.request("DELETE", seg_container, seg_name, ok=(204, 404))
        else:
            # A POST replaces every X-Object-Meta-* of the object: send the whole set.
            headers = dict(meta_headers)
            if content_type:
                headers["Content-Type"] = content_type
            self.swift.request("POST", self.container, self.name, headers=headers)
        after = object_view(
            self.account, self.container, self.name, self.swift.head(self.container, self.name) or {}
        )
        return {"changed": True, "object": after, "diff": {"before": before or {}, "after": after}}

    @staticmethod
    def _digest(source, seg_size: int) -> _Digest:
        kind, value = source
        if kind == "file":
            return _digest_file(value, seg_size)
        digest = _Digest(seg_size)
        digest.update(value)
        return digest.finish()

    def _put_plain(self, upload, meta_headers, content_type):
        (kind, value), digest, _segmented, etag = upload
        headers = {"ETag": etag, "Content-Length": str(digest.size), **meta_headers}
        if content_type:
            headers["Content-Type"] = content_type
        if kind == "file":
            with open(value, "rb") as fh:
                resp = self.swift.request(
                    "PUT", self.container, self.name, ok=(201, 422), data=fh, headers=headers
                )
        else:
            resp = self.swift.request(
                "PUT", self.container, self.name, ok=(201, 422), data=value, headers=headers
            )
        self._check_etag(resp, etag, f"{self.container}/{self.name}")

    @staticmethod
    def _check_etag(resp, etag: str, what: str) -> None:
        # 422: the object server's MD5 of what arrived differs from the ETag we sent.
        got = (resp.headers.get("Etag") or "").strip('"')
        if resp.status_code == 422 or got != etag:
            raise ObjectStoreError(
                f"Upload of {what} was corrupted in transit: sent ETag {etag}, Swift computed {got or 'a different one'} (HTTP {resp.status_code})."
            )

    def _put_slo(self, upload, meta_headers, content_type):
        (kind, value), digest, _segmented, etag = upload
        seg_container = self.params.get("segment_container") or f"{self.container}_segments"
        if self.swift.head(seg_container) is None:
            self.swift.request("PUT", seg_container)
        prefix = f"{self.name}/slo/{etag}/{digest.size}/{digest.segment_size}"
        manifest, written = [], []
        fh = open(value, "rb") if kind == "file" else None
        try:
            offset = 0
            for index, (seg_etag, seg_len) in enumerate(digest.segments):
                seg_name = f"{prefix}/{index:08d}"
                body = fh.read(seg_len) if fh else value[offset : offset + seg_len]
                offset += seg_len
                existing = self.swift.head(seg_container, seg_name)
                if not existing or (existing.get("etag") or "").strip('"') != seg_etag:
                    resp = self.swift.request(
                        "PUT", seg_container, seg_name, ok=(201, 422), data=body, headers={"ETag": seg_etag}
                    )
                    self._check_etag(resp, seg_etag, f"{seg_container}/{seg_name}")
                written.append((seg_container, seg_name))
                manifest.append(
                    {"path": f"/{seg_container}/{seg_name}", "etag": seg_etag, "size_bytes": seg_len}
                )
        finally:
            if fh:
                fh.close()
        headers = dict(meta_headers)
        if content_type:
            headers["Content-Type"] = content_type
        resp = self.swift.request(
            "PUT",
            self.container,
            self.name,
            query={"multipart-manifest": "put"},
            data=json.dumps(manifest),
            headers=headers,
        )
        self._check_etag(resp, etag, f"{self.container}/{self.name}")
        return written

    def _segments_of(self, before) -> list[tuple[str, str]]:
        manifest = self._manifest()
        out = []
        for seg in manifest:
            container, _sep, name = seg["name"].lstrip("/").partition("/")
            out.append((container, name))
        return out

    def _manifest(self) -> list[dict]:
        resp = self.swift.request("GET", self.container, self.name, query={"multipart-manifest": "get"})
        return json.loads(resp.text)

    # -- download
    def _download(self, before):
        dest = os.path.expanduser(self.params["dest"])
        if before is None:
            raise ObjectStoreError(f"Object {self.container}/{self.name} not found (HTTP 404).")
        if os.path.isdir(dest):
            raise ObjectStoreError(f"dest: {dest} is a directory; give the path of the file to write.")
        sizes = [s["bytes"] for s in self._manifest()] if before.get("x-static-large-object") else None
        if os.path.isfile(dest):
            local = _digest_file_by_sizes(dest, sizes) if sizes else _digest_file(dest).md5
            if local == before["etag"]:
                return {
                    "changed": False,
                    "object": before,
                    "dest": dest,
                    "diff": {"before": {"dest": dest, "etag": local}, "after": {"dest": dest, "etag": local}},
                }
        diff = {
            "before": {"dest": dest} if not os.path.exists(dest) else {"dest": dest, "etag": "differs"},
            "after": {"dest": dest, "etag": before["etag"]},
        }
        if self.check_mode:
            return {"changed": True, "object": before, "dest": dest, "diff": diff}
        directory = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(directory):
            raise ObjectStoreError(f"dest: directory {directory} does not exist on the controller.")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ministack-download-")
        try:
            resp = self.swift.request("GET", self.container, self.name, ok=(200,), stream=True)
            digest = _Digest(None)
            with os.fdopen(fd, "wb") as out:
                for block in resp.iter_content(CHUNK):
                    digest.update(block)
                    out.write(block)
            digest.finish()
            got = _digest_file_by_sizes(tmp, sizes) if sizes else digest.md5
            if got != before["etag"] or digest.size != before["content-length"]:
                raise ObjectStoreError(
                    f"Download of {self.container}/{self.name} was corrupted in transit: ETag {before['etag']}, received {got} ({digest.size} bytes)."
                )
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return {"changed": True, "object": before, "dest": dest, "diff": diff}


class ObjectInfo(Resource):
    read_only = True

    def run(self) -> dict:
        p = self.params
        container = _check_container_name("container", p["container"])
        account = _account_of(self.swift)
        if p.get("name"):
            headers = self.swift.head(container, _check_object_name("name", p["name"]))
            if headers is None and self.swift.head(container) is None:
                raise ObjectStoreError(f"Container {container} not found (HTTP 404).")
            objects = [object_view(account, container, p["name"], headers)] if headers is not None else []
        else:
            objects = [
                {
                    "name": o["name"],
                    "bytes": o.get("bytes"),
                    "hash": o.get("hash"),
                    "content_type": o.get("content_type"),
                    "last_modified": o.get("last_modified"),
                }
                for o in self.swift.listing(container, prefix=p.get("prefix"))
            ]
        return {"changed": False, "objects": objects}


class AccountInfo(Resource):
    read_only = True

    def run(self) -> dict:
        headers = self.swift.head() or {}
        account = {
            "account": _account_of(self.swift),
            "bytes": int(headers.get("x-account-bytes-used", 0)),
            "containers": int(headers.get("x-account-container-count", 0)),
            "objects": int(headers.get("x-account-object-count", 0)),
            "properties": metadata_of(headers, "account"),
        }
        return {"changed": False, "account": account}
