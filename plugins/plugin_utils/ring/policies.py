# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swift storage policies as an inventory declares them, checked and completed.

``storage_policies(declared, replicas)`` returns each policy with every field swift.conf
and the rings need (``ring`` is ``object`` for index 0, else ``object-<index>``), or raises
RingError with one message naming the policy, the field and the fix. The rules are Swift's
own (swift.common.storage_policy), checked before anything is written: a bad swift.conf
stops every Swift service of the cluster at its next start.
"""

from __future__ import annotations

import re

from .errors import RingError

TYPES = ("replication", "erasure_coding")
# ec_type values liberasurecode accepts without an external library (PyPI's pyeclib wheel bundles them).
EC_TYPES = ("liberasurecode_rs_vand", "isa_l_rs_vand", "isa_l_rs_cauchy", "isa_l_rs_vand_inv",
            "flat_xor_hd_3", "flat_xor_hd_4", "jerasure_rs_vand", "jerasure_rs_cauchy", "shss", "libphazr")
FIELDS = ("name", "index", "default", "deprecated", "type", "replicas", "ec_type", "ec_num_data_fragments",
          "ec_num_parity_fragments", "ec_object_segment_size", "aliases")
NAME = re.compile(r"^[A-Za-z0-9-]+$")
TRUE = {True, "true", "yes", "on", "1"}
FALSE = {False, "false", "no", "off", "0", None}


def _bool(where, field, value):
    if isinstance(value, str):
        value = value.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise RingError(f"{where}: {field} must be true or false, got {value!r}")


def _int(where, field, value, minimum):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RingError(f"{where}: {field} must be an integer >= {minimum}, got {value!r}")
    return value


def storage_policies(declared, replicas=3):
    """Check and complete ``object_storage_policies``; ``replicas`` is the default for replication."""
    if not isinstance(declared, list) or not declared:
        raise RingError("object_storage_policies must be a non-empty list, for example "
                        "[{name: Policy-0, index: 0, default: true}]")
    out = []
    for pos, item in enumerate(declared):
        where = f"object_storage_policies[{pos}]"
        if not isinstance(item, dict):
            raise RingError(f"{where} must be a dict with name and index, got {item!r}")
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            raise RingError(f"{where}: unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
        for field in ("name", "index"):
            if field not in item:
                raise RingError(f"{where}: missing required field {field!r}")
        name = item["name"]
        if not isinstance(name, str) or not NAME.match(name):
            raise RingError(f"{where}: name must be letters, digits and '-' (Swift's rule), got {name!r}")
        where = f"object_storage_policies[{pos}] ({name})"
        index = _int(where, "index", item["index"], 0)
        kind = item.get("type", "replication")
        if kind not in TYPES:
            raise RingError(f"{where}: type must be replication or erasure_coding, got {kind!r}")
        policy = {
            "name": name,
            "index": index,
            "default": _bool(where, "default", item.get("default", False)),
            "deprecated": _bool(where, "deprecated", item.get("deprecated", False)),
            "type": kind,
            "aliases": list(item.get("aliases") or []),
            "ring": "object" if index == 0 else f"object-{index}",
        }
        if kind == "replication":
            for field in ("ec_type", "ec_num_data_fragments", "ec_num_parity_fragments", "ec_object_segment_size"):
                if item.get(field) is not None:
                    raise RingError(f"{where}: {field} is for type erasure_coding; remove it or set "
                                    "type: erasure_coding")
            reps = item.get("replicas", replicas)
            try:
                reps = float(reps)
            except (TypeError, ValueError):
                reps = 0
            if reps < 1:
                raise RingError(f"{where}: replicas must be a number >= 1, got {item.get('replicas')!r}")
            policy["replicas"] = int(reps) if reps == int(reps) else reps
        else:
            if item.get("replicas") is not None:
                raise RingError(f"{where}: replicas does not apply to an erasure-coded policy (its ring holds "
                                "ec_num_data_fragments + ec_num_parity_fragments); remove it")
            for field in ("ec_num_data_fragments", "ec_num_parity_fragments"):
                if item.get(field) is None:
                    raise RingError(f"{where}: type erasure_coding needs {field} (for example 4 data and 2 parity)")
            ndata = _int(where, "ec_num_data_fragments", item["ec_num_data_fragments"], 1)
            nparity = _int(where, "ec_num_parity_fragments", item["ec_num_parity_fragments"], 1)
            ec_type = item.get("ec_type", "liberasurecode_rs_vand")
            if ec_type not in EC_TYPES:
                raise RingError(f"{where}: ec_type must be one of {', '.join(EC_TYPES)} "
                                f"(liberasurecode_rs_vand needs no extra library), got {ec_type!r}")
            policy.update(ec_type=ec_type, ec_num_data_fragments=ndata, ec_num_parity_fragments=nparity,
                          ec_object_segment_size=_int(where, "ec_object_segment_size",
                                                      item.get("ec_object_segment_size", 1048576), 1),
                          replicas=ndata + nparity)
        out.append(policy)
    for field in ("index", "name"):
        seen = {}
        for policy in out:
            key = policy[field].lower() if field == "name" else policy[field]
            if key in seen:
                raise RingError(f"object_storage_policies: {field} {policy[field]!r} is used by both "
                                f"{seen[key]} and {policy['name']}; each policy needs its own")
            seen[key] = policy["name"]
    if 0 not in {p["index"] for p in out}:
        raise RingError("object_storage_policies: no policy has index 0; keep policy 0 (it holds the data written "
                        "before policies existed), for example {name: Policy-0, index: 0}")
    defaults = [p for p in out if p["default"]]
    if len(defaults) > 1:
        raise RingError("object_storage_policies: default is true on "
                        f"{', '.join(p['name'] for p in defaults)}; exactly one policy is the default")
    if not defaults:
        if len(out) > 1:
            raise RingError("object_storage_policies: no policy has default: true; mark the one new containers "
                            "get when they name none")
        out[0]["default"] = True
        defaults = out
    if defaults[0]["deprecated"]:
        raise RingError(f"object_storage_policies: {defaults[0]['name']} is both default and deprecated; "
                        "make another policy the default first")
    return sorted(out, key=lambda p: p["index"])


__all__ = ["EC_TYPES", "FIELDS", "TYPES", "storage_policies"]
