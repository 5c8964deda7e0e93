# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program a block host runs for a backup or a restore (python3 standard library only).

The controller sends this file's text and a job on stdin (one JSON line:
``{"program": ..., "job": ...}``; the job holds the Swift token, so nothing secret is in
argv or the process list). The host reads the volume (or its temporary snapshot) and talks
to the Swift proxy directly: no volume byte passes through the controller.

Format (Cinder's chunked driver, cinder/backup/chunkeddriver.py + drivers/swift.py):
objects ``<prefix>-00001``... (a full backup: one per ``chunk_size`` bytes; an incremental:
one per run of 32 KiB blocks whose sha256 changed since the parent, at its offset), each
zlib-compressed unless that does not make it smaller; ``<prefix>_sha256file`` and
``<prefix>_metadata`` (JSON, version 1.0.0).

Output on stdout, one line each, for the controller to parse:
``progress <bytes_done> <bytes_total>``, ``object <name>`` (written, for cleanup),
``done <json>`` or ``error <message>``.
"""

import hashlib
import http.client
import json
import os
import queue
import sys
import threading
import time
import zlib
from urllib.parse import quote, urlsplit

RETRIES = 3  # backup_swift_retry_attempts
BACKOFF = 2  # backup_swift_retry_backoff
LISTING_TRIES, LISTING_WAIT = 6, 3  # up to 15 s for a lagging container listing


class JobError(Exception):
    pass


class Swift:
    """Requests to one storage URL with one token (a connection per thread)."""

    def __init__(self, storage_url, token, timeout=120):
        self.url = urlsplit(storage_url)
        self.base = self.url.path.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.local = threading.local()

    def _conn(self):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.url.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.url.hostname, self.url.port or (443 if self.url.scheme == "https" else 80),
                       timeout=self.timeout)
            self.local.conn = conn
        return conn

    def _drop(self):
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
        self.local.conn = None

    def request(self, method, container, name=None, body=None, headers=None, query="", ok=(200, 201, 204),
                retries=RETRIES):
        path = self.base + "/" + quote(container, safe="")
        if name is not None:
            path += "/" + quote(name, safe="/")
        if query:
            path += "?" + query
        hdrs = {"X-Auth-Token": self.token}
        hdrs.update(headers or {})
        last = None
        for attempt in range(retries):
            try:
                conn = self._conn()
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status in ok:
                    return resp, data
                last = f"{method} {name or container}: HTTP {resp.status} {resp.reason}"
                if resp.status < 500 and resp.status != 408:
                    break
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                last = f"{method} {name or container}: {exc or type(exc).__name__}"
            if attempt + 1 < retries:
                time.sleep(BACKOFF * (attempt + 1) / 2.0)
        raise JobError(last)

    def put(self, container, name, data):
        etag = hashlib.md5(data).hexdigest()
        resp, _body = self.request("PUT", container, name, body=data,
                                   headers={"ETag": etag, "Content-Length": str(len(data))}, ok=(201,))
        got = (resp.getheader("etag") or "").strip('"')
        if got != etag:
            raise JobError(f"PUT {name}: the store answered ETag {got}, expected {etag}")

    def get(self, container, name):
        resp, data = self.request("GET", container, name, ok=(200, 404))
        if resp.status == 404:
            return None
        return data

    def delete(self, container, name):
        self.request("DELETE", container, name, ok=(204, 404), retries=1)

    def listing(self, container, prefix):
        names, marker = [], ""
        while True:
            query = "format=json&prefix=" + quote(prefix, safe="")
            if marker:
                query += "&marker=" + quote(marker, safe="")
            resp, data = self.request("GET", container, query=query, ok=(200, 204, 404))
            page = json.loads(data.decode() or "[]") if resp.status == 200 else []
            if not page:
                return names
            names.extend(item["name"] for item in page)
            marker = page[-1]["name"]


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()  # a closed pipe (controller gone) raises here and aborts the job


def compress(data, algorithm):
    """(bytes to store, compression name): zlib only when it makes the object smaller."""
    if algorithm in ("zlib", "gzip"):
        packed = zlib.compress(data, 6)
        if len(packed) < len(data):
            return packed, "zlib"
    return data, "none"


def decompress(data, algorithm):
    if algorithm in (None, "none", "off", "no"):
        return data
    if algorithm in ("zlib", "gzip"):
        return zlib.decompress(data)
    raise JobError(f"compression {algorithm} is not supported here (zlib or none)")


def block_sums(data, block):
    return [hashlib.sha256(data[i:i + block]).hexdigest() for i in range(0, len(data), block)]


def header(job):
    h = job["header"]
    return {"version": "1.0.0", "backup_id": h["backup_id"], "volume_id": h["volume_id"],
            "backup_name": h.get("backup_name"), "backup_description": h.get("backup_description"),
            "created_at": h["created_at"]}


def backup(job):
    swift = Swift(job["storage_url"], job["token"])
    container, prefix = job["container"], job["prefix"]
    chunk, block = int(job["chunk_size"]), int(job["block_size"])
    total = int(job["size_bytes"])
    parent = None
    if job.get("parent_prefix"):
        raw = swift.get(container, job["parent_prefix"] + "_sha256file")
        if raw is None:
            raise JobError("the parent backup's {}_sha256file is missing from container {}".format(job["parent_prefix"], container))
        parent = json.loads(raw.decode())
        if int(parent.get("chunk_size", 0)) != block:
            raise JobError(f"the parent backup's sha256 block size is {parent.get('chunk_size')}, this one uses {block}")
        if len(parent["sha256s"]) < -(-total // block):
            raise JobError("the volume has grown since its parent backup; make a full backup")
    written, objects, sums = [], [], []
    done = [0]
    failure = []
    work = queue.Queue(maxsize=2)  # read/hash the next chunk while the previous one uploads

    def uploader():
        while True:
            item = work.get()
            if item is None:
                return
            if failure:
                continue
            name, data = item
            try:
                swift.put(container, name, data)
                written.append(name)
                say("object " + name)
            except Exception as exc:  # reported once by the main thread
                failure.append(exc)

    thread = threading.Thread(target=uploader, daemon=True)
    thread.start()
    number = 0
    try:
        with open(job["source_path"], "rb", buffering=0) as source:
            offset = 0
            while offset < total and not failure:
                data = source.read(min(chunk, total - offset))
                if not data:
                    raise JobError(f"short read at offset {offset} of {job['source_path']}")
                chunk_sums = block_sums(data, block)
                first = len(sums)
                sums.extend(chunk_sums)
                runs = [(0, len(data))]
                if parent is not None:
                    runs, start = [], None
                    old = parent["sha256s"]
                    for i, digest in enumerate(chunk_sums):
                        changed = first + i >= len(old) or old[first + i] != digest
                        if changed and start is None:
                            start = i
                        if not changed and start is not None:
                            runs.append((start * block, i * block))
                            start = None
                    if start is not None:
                        runs.append((start * block, len(data)))
                for lo, hi in runs:
                    number += 1
                    name = f"{prefix}-{number:05d}"
                    piece = data[lo:hi]
                    stored, algorithm = compress(piece, job.get("compression", "zlib"))
                    objects.append({name: {"offset": offset + lo, "length": hi - lo, "compression": algorithm,
                                           "md5": hashlib.md5(piece).hexdigest()}})
                    work.put((name, stored))
                offset += len(data)
                done[0] = offset
                say(f"progress {offset} {total}")
    finally:
        work.put(None)
        thread.join()
    if failure:
        raise failure[0]
    info = header(job)
    sha = dict(info, chunk_size=block, sha256s=sums)
    swift.put(container, prefix + "_sha256file", json.dumps(sha, indent=2, sort_keys=True).encode())
    written.append(prefix + "_sha256file")
    say("object " + prefix + "_sha256file")
    meta = dict(info, objects=objects, parent_id=job["header"].get("parent_id"),
                volume_meta=job["header"].get("volume_meta"))
    swift.put(container, prefix + "_metadata", json.dumps(meta, indent=2, sort_keys=True).encode())
    say("object " + prefix + "_metadata")
    uploaded = sum(o[n]["length"] for o in objects for n in o)
    say("done " + json.dumps({"object_count": len(objects), "bytes_uploaded": uploaded}))


def restore(job):
    swift = Swift(job["storage_url"], job["token"])
    container = job["container"]
    chain = job["chain"]  # [{"backup_id", "prefix"}], the full backup first
    plans = []
    total = 0
    for link in chain:
        raw = swift.get(container, link["prefix"] + "_metadata")
        if raw is None:
            raise JobError("metadata object {}_metadata of backup {} is missing from container {}".format(link["prefix"], link["backup_id"], container))
        meta = json.loads(raw.decode())
        names = [n for o in meta["objects"] for n in o]
        for attempt in range(LISTING_TRIES):
            # Container listings are eventually consistent (a busy container server gets the
            # object's update later): look again before calling the backup damaged.
            listed = [n for n in swift.listing(container, link["prefix"])
                      if n not in (link["prefix"] + "_metadata", link["prefix"] + "_sha256file")]
            if sorted(listed) == sorted(names):
                break
            if attempt + 1 < LISTING_TRIES:
                time.sleep(LISTING_WAIT)
        if sorted(listed) != sorted(names):
            missing = sorted(set(names) - set(listed)) or "none"
            unexpected = sorted(set(listed) - set(names)) or "none"
            raise JobError("restore_backup aborted, actual object list does not match object list stored in "
                           f"metadata (backup {link['backup_id']}: missing {missing}, unexpected {unexpected}).")
        plans.append(meta)
        total += sum(o[n]["length"] for o in meta["objects"] for n in o)
    done = 0
    fd = os.open(job["target_path"], os.O_WRONLY)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        for meta in plans:
            for entry in meta["objects"]:
                for name, info in entry.items():
                    stored = swift.get(container, name)
                    if stored is None:
                        raise JobError(f"object {name} is missing from container {container}")
                    try:
                        data = decompress(stored, info.get("compression"))
                    except zlib.error as exc:
                        raise JobError(f"object {name} does not decompress ({exc}): it is damaged") from None
                    if hashlib.md5(data).hexdigest() != info["md5"] or len(data) != int(info["length"]):
                        raise JobError(f"object {name} does not match its md5 in the backup's metadata: it is damaged")
                    offset = int(info["offset"])
                    if offset + len(data) > size:
                        raise JobError(f"object {name} ends at byte {offset + len(data)}, past the end of the target "
                                       f"({size} bytes)")
                    view = memoryview(data)
                    while view:
                        n = os.pwrite(fd, view, offset)
                        view, offset = view[n:], offset + n
                    done += len(data)
                    say(f"progress {done} {total}")
        os.fsync(fd)
    finally:
        os.close(fd)
    say("done " + json.dumps({"bytes_restored": done}))


def main(job):
    try:
        if job["action"] == "backup":
            try:
                backup(job)
            except BaseException:
                # Remove what this run wrote (best effort: the controller removes the rest).
                swift = Swift(job["storage_url"], job["token"], timeout=10)
                try:
                    for name in swift.listing(job["container"], job["prefix"]):
                        swift.delete(job["container"], name)
                except Exception:
                    pass
                raise
        elif job["action"] == "restore":
            restore(job)
        else:
            raise JobError("unknown action {!r}".format(job["action"]))
    except JobError as exc:
        say("error " + str(exc))
        return 1
    except OSError as exc:
        try:
            say(f"error {exc}")
        except OSError:
            pass
        return 1
    return 0


if __name__ == "__main__":  # run as ``python3 -c BOOT``: see backup/hostjob.py
    sys.exit(main(globals()["JOB"]))  # JOB is given by the bootstrap
