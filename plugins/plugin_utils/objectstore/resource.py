# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every object store resource shares: Swift's limits, the name and metadata checks, the
account name, and the Resource base (read, compare, apply; only report in check mode)."""

from __future__ import annotations

from .client import ObjectStoreError, dot_segment

# Swift's default constraints (swift/common/constraints.py).
MAX_META_NAME = 128
MAX_META_VALUE = 256
MAX_META_COUNT = 90
MAX_META_OVERALL = 4096
MAX_CONTAINER_NAME = 256
MAX_OBJECT_NAME = 1024
MAX_FILE_SIZE = 5368709122
CHUNK = 1048576


def check_metadata(field: str, metadata: dict | None) -> dict:
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


def check_container_name(field: str, name: str) -> str:
    if not name or "/" in name or len(name.encode()) > MAX_CONTAINER_NAME:
        raise ObjectStoreError(
            f"{field}: {name!r} is not a valid container name (1 to {MAX_CONTAINER_NAME} bytes, no '/')."
        )
    if dot_segment(name):
        raise ObjectStoreError(f"{field}: {name!r} is not a valid container name: '.' and '..' would be "
                               "resolved by HTTP clients to the account itself; choose another name.")
    return name


def check_object_name(field: str, name: str) -> str:
    if not name or len(name.encode()) > MAX_OBJECT_NAME:
        raise ObjectStoreError(f"{field}: {name!r} is not a valid object name (1 to {MAX_OBJECT_NAME} bytes).")
    if dot_segment(name):
        raise ObjectStoreError(f"{field}: {name!r} has a '.' or '..' path segment, which HTTP clients resolve "
                               "before the request reaches Swift (another object would be read, written or "
                               "deleted); remove those segments from the name.")
    return name


def account_of(swift) -> str:
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
