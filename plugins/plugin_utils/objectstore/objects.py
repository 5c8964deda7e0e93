# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.object`` and ``object_info``: Swift objects (plain and static large objects)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from .client import ObjectStoreError, metadata_of
from .resource import (
    CHUNK,
    MAX_FILE_SIZE,
    Resource,
    account_of,
    check_container_name,
    check_metadata,
    check_object_name,
)


def object_view(account: str, container: str, name: str, headers: dict) -> dict:
    """An object as plain data; the cli_show filter (resource='object') prints ``openstack object show``."""
    return {
        "account": account,
        "container": container,
        "object": name,
        "content_length": int(headers.get("content-length", 0)),
        "content_type": headers.get("content-type"),
        "etag": (headers.get("etag") or "").strip('"'),
        "last_modified": headers.get("last-modified"),
        "properties": metadata_of(headers, "object"),
        "static_large_object": headers.get("x-static-large-object", "").lower() == "true",
    }


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
        self.container = check_container_name("container", p["container"])
        self.name = check_object_name("name", p["name"])
        self.account = account_of(self.swift)
        self.set_meta = check_metadata("metadata", p.get("metadata"))
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
            query = {"multipart-manifest": "delete"} if before.get("static_large_object") else None
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
                and before["content_length"] == digest.size
                and bool(before.get("static_large_object")) == segmented
            )
            if not same:
                upload = (source, digest, segmented, etag)

        meta_changed = before is not None and want_meta != current_meta
        type_changed = (
            before is not None and content_type is not None and content_type != before["content_type"]
        )
        if before is not None and upload is None and not meta_changed and not type_changed:
            return {"changed": False, "object": before, "diff": {"before": before, "after": before}}

        if self.check_mode:
            after = dict(before or object_view(self.account, self.container, self.name, {}))
            after["properties"] = want_meta
            if content_type:
                after["content_type"] = content_type
            if upload:
                after["etag"], after["content_length"] = upload[3], upload[1].size
                after["static_large_object"] = bool(upload[2])
            return {"changed": True, "object": after, "diff": {"before": before or {}, "after": after}}

        meta_headers = {f"X-Object-Meta-{k}": v for k, v in want_meta.items()}
        if upload is not None:
            old_segments = self._segments_of(before) if before and before.get("static_large_object") else []
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
        sizes = [s["bytes"] for s in self._manifest()] if before.get("static_large_object") else None
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
            if got != before["etag"] or digest.size != before["content_length"]:
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
        container = check_container_name("container", p["container"])
        account = account_of(self.swift)
        if p.get("name"):
            headers = self.swift.head(container, check_object_name("name", p["name"]))
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
