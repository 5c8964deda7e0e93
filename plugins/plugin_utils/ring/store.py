# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ring kept on disk: ``<path>/<ring>.builder.json`` (builder state) and ``<path>/<ring>.ring.gz``.

``ensure_ring`` is what the object_ring module does: rebalance only when the devices or
parameters changed (or an earlier rebalance was held back by min_part_hours and the hours
have passed), write both files atomically, and report what changed.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time

from .. import testpoints
from ..processes import running
from . import builder as _builder
from .builder import FORMAT, MAX_HOURS, load_state, rebalance, ring_devs
from .devices import RING_KEYS, assign_ids
from .errors import RingError
from .ringfile import _write

RING_NAMES = ("account", "container", "object")
# object-<index> is the object ring of storage policy <index> (policy 0 uses "object").
POLICY_RING = re.compile(r"^object-([1-9][0-9]{0,5})$")


def check_ring_name(ring):
    """account, container, object or object-<policy index>; one message naming the fix otherwise."""
    if ring in RING_NAMES or (isinstance(ring, str) and POLICY_RING.match(ring)):
        return ring
    raise RingError(f"ring must be one of {', '.join(RING_NAMES)} or object-<policy index> (object-1, object-2, "
                    f"...; policy 0 uses 'object'), got {ring!r}")


def ec_replicas(ring, replicas, ec_num_data_fragments=None, ec_num_parity_fragments=None):
    """The replica count of a ring: for an erasure-coded policy, one 'replica' per fragment (ndata + nparity).

    Swift's proxy refuses an EC policy whose ring does not have exactly ndata + nparity replicas,
    so the count is derived here instead of trusted from ``replicas``.
    """
    if ec_num_data_fragments is None and ec_num_parity_fragments is None:
        return 3 if replicas is None else replicas
    if ec_num_data_fragments is None or ec_num_parity_fragments is None:
        raise RingError("ec_num_data_fragments and ec_num_parity_fragments go together: give both "
                        "(for example 4 and 2) for an erasure-coded policy's ring, or neither")
    for field, value in (("ec_num_data_fragments", ec_num_data_fragments),
                         ("ec_num_parity_fragments", ec_num_parity_fragments)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RingError(f"{field} must be an integer >= 1, got {value!r}")
    if not ring.startswith("object"):
        raise RingError(f"ec_num_data_fragments applies to an object ring (object or object-<index>), not {ring!r}")
    total = ec_num_data_fragments + ec_num_parity_fragments
    if replicas is not None and float(replicas) != float(total):
        raise RingError(f"replicas ({replicas:g}) contradicts the erasure coding {ec_num_data_fragments}+"
                        f"{ec_num_parity_fragments}: an EC ring holds one fragment per replica; leave replicas out")
    return total


def _temp_prefix(path, pid=None):
    return f".{os.path.basename(path)}.tmp-{os.getpid() if pid is None else pid}-"


def remove_stale_temps(path, files):
    """Temporary copies left by a run killed before its rename (SIGKILL skips every cleanup):
    ``.<file>.tmp-<pid>-*`` whose writer no longer runs: its pid is free, a zombie, or a later
    process's. Returns the files removed."""
    removed = []
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return removed
    for name in names:
        match = re.fullmatch(r"\.(.+)\.tmp-(\d+)-.*", name)
        if not match or match.group(1) not in files:
            continue
        try:
            if running(int(match.group(2)), not_after=os.stat(os.path.join(path, name)).st_mtime):
                continue
            os.unlink(os.path.join(path, name))
            removed.append(name)
        except FileNotFoundError:
            pass
    return removed


def _atomic_write(path, data):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(path))
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        os.chmod(tmp, 0o644)
        testpoints.reached("host-work")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def ring_file_bytes(state, filename):
    buf = io.BytesIO()
    _write(buf, filename, ring_devs(state), 32 - state["part_power"], _builder.decoded_rows(state),
           state.get("version"))
    return buf.getvalue()


def device_line(dev):
    """One device as swift-ring-builder prints it: d<id>r<region>z<zone>-<ip>:<port>/<device>_"<meta>" <weight>."""
    text = f"d{dev['id']}r{dev['region']}z{dev['zone']}-{dev['ip']}:{dev['port']}/{dev['device']}"
    if (dev["replication_ip"], dev["replication_port"]) != (dev["ip"], dev["port"]):
        text += f" R{dev['replication_ip']}:{dev['replication_port']}"
    if dev.get("meta"):
        text += f'_"{dev["meta"]}"'
    return f"{text} weight {dev['weight']:g}"


def _summary(state):
    if state is None:
        return {}
    return {
        "part_power": state["part_power"],
        "replicas": state["replicas"],
        "min_part_hours": state["min_part_hours"],
        "overload": state["overload"],
        "devices": [device_line(d) for d in state["devs"] if d],
    }


def _devices_out(state):
    return [{**{k: d[k] for k in RING_KEYS}, "parts": d["parts"], "parts_wanted": d["parts_wanted"],
             "balance": round(d["balance"], 2)} for d in state["devs"] if d]


def read_builder(path):
    try:
        with open(path, encoding="utf-8") as fp:
            state = json.load(fp)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RingError(f"path: {path}: cannot read the ring builder state ({exc}); move it away to build a "
                        "new ring") \
            from None
    try:
        load_state(state)
    except RingError as exc:
        raise RingError(f"{path}: {exc}") from None
    return state


def ensure_ring(path, ring, devices, part_power=10, replicas=None, min_part_hours=1, overload=0.0, seed=None,
                check_mode=False, now=None, ec_num_data_fragments=None, ec_num_parity_fragments=None):
    """Bring ``<path>/<ring>.builder.json`` and ``.ring.gz`` to these devices; returns the module result."""
    check_ring_name(ring)
    replicas = ec_replicas(ring, replicas, ec_num_data_fragments, ec_num_parity_fragments)
    if not path:
        raise RingError("path must be the directory of the ring files, for example /etc/swift")
    if os.path.exists(path) and not os.path.isdir(path):
        raise RingError(f"path {path} exists and is not a directory")
    now = time.time() if now is None else now
    builder_file = os.path.join(path, f"{ring}.builder.json")
    ring_file = os.path.join(path, f"{ring}.ring.gz")
    previous = read_builder(builder_file)
    if not check_mode:  # what a killed run left half-written
        remove_stale_temps(path, (os.path.basename(builder_file), os.path.basename(ring_file)))

    wanted = assign_ids(devices, previous["devs"] if previous else [])
    params_same = previous is not None and previous["part_power"] == part_power and \
        float(previous["replicas"]) == float(replicas) and float(previous["overload"]) == float(overload)
    devices_same = previous is not None and \
        sorted(wanted, key=lambda d: d["id"]) == [{k: d[k] for k in RING_KEYS} for d in previous["devs"] if d]
    due = previous is not None and previous.get("pending") and \
        (now - previous.get("last_part_moves_epoch", 0)) // 3600 >= min_part_hours

    state = previous
    rebalanced = False
    if not (params_same and devices_same) or due:
        candidate = rebalance(previous, devices, part_power=part_power, replicas=replicas,
                              min_part_hours=min_part_hours, overload=overload, seed=seed, now=now)
        if not (params_same and devices_same) or candidate["moved"]:
            state, rebalanced = candidate, True
    if state is not None and state["min_part_hours"] != min_part_hours:
        state = dict(state, min_part_hours=min_part_hours)
    if state is None:  # unreachable: no previous state always rebalances
        raise RingError("internal error: no ring state")

    builder_changed = state is not previous
    ring_bytes = ring_file_bytes(state, ring_file)
    try:
        with open(ring_file, "rb") as fp:
            ring_changed = fp.read() != ring_bytes
    except FileNotFoundError:
        ring_changed = True
    changed = builder_changed or ring_changed
    if changed and not check_mode:
        os.makedirs(path, exist_ok=True)
        if builder_changed:
            _atomic_write(builder_file, json.dumps(state, sort_keys=True, indent=1).encode("utf-8") + b"\n")
            testpoints.reached("outcome")
        if ring_changed:
            _atomic_write(ring_file, ring_bytes)
    return {
        "changed": changed,
        "rebalanced": rebalanced,
        "balance": round(state["balance"], 2),
        "dispersion": round(state["dispersion"], 2),
        "moved": state["moved"] if rebalanced else 0,
        "pending": bool(state.get("pending")),
        "version": state["version"],
        "part_power": state["part_power"],
        "partitions": 2 ** state["part_power"],
        "replicas": state["replicas"],
        "min_part_hours": state["min_part_hours"],
        "overload": state["overload"],
        "devices": _devices_out(state),
        "builder_file": builder_file,
        "ring_file": ring_file,
        "diff": {"before": _summary(previous), "after": _summary(state),
                 "before_header": builder_file, "after_header": builder_file},
    }


__all__ = ["FORMAT", "MAX_HOURS", "RING_NAMES", "check_ring_name", "device_line", "ec_replicas", "ensure_ring", "read_builder", "ring_file_bytes"]
