# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate and normalise device lists as swift-ring-builder's ``add_dev`` does.

A device keeps its id across rebalances: ids given by the caller win; a device without an
id keeps the id of the previous device with the same ip, port and device name, and a new
device takes the lowest free id (ids of devices being removed in the same rebalance are
not reused yet, so no new device inherits partitions whose data it does not hold).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping

from .errors import RingError

# Version 1 ring files store device ids as unsigned 16-bit numbers; 0xFFFF means "unassigned".
MAX_DEV_ID = 0xFFFE
RING_KEYS = ("id", "region", "zone", "ip", "port", "replication_ip", "replication_port", "device", "weight", "meta")
REQUIRED = ("zone", "ip", "port", "device", "weight")
KNOWN = frozenset(RING_KEYS) | {"parts", "parts_wanted", "balance"}


def _label(index, dev):
    where = f"devices[{index}]"
    if isinstance(dev, Mapping) and all(k in dev for k in ("ip", "port", "device")):
        where += f" ({dev['ip']}:{dev['port']}/{dev['device']})"
    return where


def _int(where, key, value, lo, hi):
    if isinstance(value, bool):
        raise RingError(f"{where}: '{key}' must be an integer, got {value!r}")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise RingError(f"{where}: '{key}' must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise RingError(f"{where}: '{key}' must be between {lo} and {hi}, got {value}")
    return value


def _ip(where, key, value):
    if not isinstance(value, str) or not value.strip():
        raise RingError(f"{where}: '{key}' must be an IP address or host name, got {value!r}")
    value = value.strip()
    try:
        # Swift compares ips as strings; normalise so "10.0.0.01" style typos do not split a server.
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return value


def normalize_device(index, dev):
    """Return the ring form of one device (every RING_KEYS key, Swift's types)."""
    where = _label(index, dev)
    if not isinstance(dev, Mapping):
        raise RingError(f"{where}: each device must be a dict with zone, ip, port, device and weight")
    missing = [k for k in REQUIRED if dev.get(k) in (None, "")]
    if missing:
        raise RingError(f"{where}: missing required field '{missing[0]}' (every device needs "
                        f"{', '.join(REQUIRED)}; region defaults to 1)")
    unknown = sorted(set(dev) - KNOWN)
    if unknown:
        raise RingError(f"{where}: unknown field '{unknown[0]}' (known fields: {', '.join(RING_KEYS)})")
    out = {}
    if dev.get("id") is not None:
        out["id"] = _int(where, "id", dev["id"], 0, MAX_DEV_ID)
    out["region"] = _int(where, "region", dev.get("region", 1) if dev.get("region") is not None else 1, 0, 2**31)
    out["zone"] = _int(where, "zone", dev["zone"], 0, 2**31)
    out["ip"] = _ip(where, "ip", dev["ip"])
    out["port"] = _int(where, "port", dev["port"], 1, 65535)
    rip = dev.get("replication_ip")
    out["replication_ip"] = _ip(where, "replication_ip", rip) if rip not in (None, "") else out["ip"]
    rport = dev.get("replication_port")
    out["replication_port"] = _int(where, "replication_port", rport, 1, 65535) if rport not in (None, "") \
        else out["port"]
    name = dev["device"]
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise RingError(f"{where}: 'device' must be a directory name under the devices root such as "
                        f"'sdb1' (no '/'), got {name!r}")
    out["device"] = name
    weight = dev["weight"]
    if isinstance(weight, str):
        try:
            weight = float(weight)
        except ValueError:
            pass
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or math.isnan(weight) or weight < 0 \
            or weight == float("inf"):
        raise RingError(f"{where}: 'weight' must be a number >= 0 (0 drains the device), got {dev['weight']!r}")
    out["weight"] = float(weight)
    meta = dev.get("meta", "")
    out["meta"] = "" if meta is None else str(meta)
    return out


def assign_ids(devices, previous_devs):
    """Normalise ``devices`` and give each an id; returns the list of ring-form devices.

    ``previous_devs`` is the previous ring's device list (with ``None`` holes) or [].
    """
    if devices is None or isinstance(devices, (str, bytes, Mapping)):
        raise RingError("devices must be a list of device dicts")
    norm = [normalize_device(i, d) for i, d in enumerate(devices)]
    by_key = {}
    for i, d in enumerate(norm):
        key = (d["ip"], d["port"], d["device"])
        if key in by_key:
            raise RingError(f"{_label(i, d)}: duplicate device, the same ip, port and device as "
                            f"devices[{by_key[key]}]")
        by_key[key] = i
    taken = {}
    for i, d in enumerate(norm):
        if "id" in d:
            if d["id"] in taken:
                raise RingError(f"{_label(i, d)}: duplicate id {d['id']} (also devices[{taken[d['id']]}])")
            taken[d["id"]] = i
    prev_by_key = {(p["ip"], p["port"], p["device"]): p["id"] for p in previous_devs if p}
    for d in norm:
        if "id" not in d:
            pid = prev_by_key.get((d["ip"], d["port"], d["device"]))
            if pid is not None and pid not in taken:
                d["id"] = pid
                taken[pid] = -1
    # Ids of previous devices stay reserved this round, whether kept or being removed.
    reserved = set(taken) | {p["id"] for p in previous_devs if p}
    next_id = 0
    for i, d in enumerate(norm):
        if "id" not in d:
            while next_id in reserved:
                next_id += 1
            if next_id > MAX_DEV_ID:
                raise RingError(f"{_label(i, d)}: no free device id left (version 1 rings hold ids up to "
                                f"{MAX_DEV_ID})")
            d["id"] = next_id
            reserved.add(next_id)
    return [{k: d[k] for k in RING_KEYS} for d in norm]


def tiers_for_dev(dev):
    """Swift's failure-domain tiers of a device: region, zone, server (ip) and the device itself."""
    r, z, ip = dev["region"], dev["zone"], dev["ip"]
    return ((r,), (r, z), (r, z, ip), (r, z, ip, dev["id"]))
