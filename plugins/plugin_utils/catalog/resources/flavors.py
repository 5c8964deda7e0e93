# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flavors: Nova's sizes. Updated in place (the id never changes); the size of a flavor
that servers use cannot change, because those servers were claimed at the old size."""

from __future__ import annotations

import re
import uuid

try:
    from sqlalchemy import delete, insert, or_, select, update
except ImportError:  # reported once, by open_catalog(): SQLAlchemy is in requirements.txt
    pass

from .. import lookup
from ..errors import Conflict, InvalidInput
from ..resource import Resource, iso, require_float, require_int, require_name, string_dict

SIZE_FIELDS = ("ram", "vcpus", "disk")
CREATE_DEFAULTS = {"ephemeral": 0, "swap": 0, "rxtx_factor": 1.0, "is_public": True, "description": None}
_FLAVOR_ID = re.compile(r"^[\w.\- ]+$")  # Nova's flavorid rule: word characters, '.', '-', ' '


def flavor_record(tx, row: dict) -> dict:
    """A flavor as the module and `openstack flavor show` give it."""
    specs = tx.t.flavor_extra_specs
    extra = dict(tx.execute(select(specs.c.key, specs.c.value).where(specs.c.flavor_id == row["id"])).all())
    return {
        "id": row["id"],
        "name": row["name"],
        "ram": row["ram"],
        "vcpus": row["vcpus"],
        "disk": row["disk"],
        "ephemeral": row["ephemeral"],
        "swap": row["swap"],
        "rxtx_factor": float(row["rxtx_factor"]),
        "is_public": bool(row["is_public"]),
        "is_disabled": bool(row["disabled"]),
        "description": row["description"],
        "extra_specs": dict(sorted(extra.items())),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def find_flavor(tx, name_or_id: str) -> dict | None:
    """The flavor with this id, else with this name (as `openstack server create --flavor`)."""
    row = lookup.find(tx, tx.t.flavors, name_or_id, "flavor")
    return flavor_record(tx, row) if row else None


def servers_using(tx, flavor_id: str) -> list[str]:
    s = tx.t.servers
    query = (
        select(s.c.name)
        .where(s.c.flavor_id == flavor_id, or_(s.c.vm_state.is_(None), s.c.vm_state != "deleted"))
        .order_by(s.c.name)
    )
    return list(tx.scalars(query))


class Flavor(Resource):
    result_key = "flavor"
    compared = ("ram", "vcpus", "disk", "ephemeral", "swap", "rxtx_factor", "is_public", "description", "extra_specs")

    def find(self, tx):
        f = tx.t.flavors
        row = tx.one_or_none(select(f).where(f.c.name == self.params["name"]))
        return flavor_record(tx, row) if row else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        wanted = {
            "name": name,
            "ram": require_int("ram", p.get("ram"), minimum=1, unit="MiB"),
            "vcpus": require_int("vcpus", p.get("vcpus"), minimum=1),
            "disk": require_int("disk", p.get("disk"), minimum=0, unit="GiB"),
            "ephemeral": require_int("ephemeral", p.get("ephemeral"), minimum=0, unit="GiB"),
            "swap": require_int("swap", p.get("swap"), minimum=0, unit="MiB"),
            "rxtx_factor": require_float("rxtx_factor", p.get("rxtx_factor")),
            "is_public": p.get("is_public"),
            "description": p.get("description"),
            "extra_specs": string_dict("extra_specs", p.get("extra_specs")),
        }
        if wanted["description"] is not None and len(wanted["description"]) > 65535:
            raise InvalidInput("description", "must be at most 65535 characters")
        flavor_id = p.get("id")
        f = tx.t.flavors
        if current is None:
            missing = [k for k in SIZE_FIELDS if wanted[k] is None]
            if missing:
                raise InvalidInput(
                    missing[0], f"required to create flavor {name} (give ram, vcpus and disk; missing: {', '.join(missing)})"
                )
            for key, default in CREATE_DEFAULTS.items():
                if wanted[key] is None:
                    wanted[key] = default
            if flavor_id in (None, "", "auto"):
                flavor_id = str(uuid.uuid4())
            else:
                flavor_id = str(flavor_id)
                if len(flavor_id) > 255 or not _FLAVOR_ID.match(flavor_id):
                    raise InvalidInput("id", f"may hold only letters, digits, '_', '-', '.' and spaces, got {flavor_id!r}")
                taken = tx.one_or_none(select(f.c.name).where(f.c.id == flavor_id))
                if taken is not None:
                    raise Conflict(f"Flavor with ID {flavor_id} already exists (it is named {taken['name']}).")
            wanted["id"] = flavor_id
            if wanted["extra_specs"] is None:
                wanted["extra_specs"] = {}
            return wanted
        if flavor_id not in (None, "", "auto") and str(flavor_id) != current["id"]:
            raise Conflict(
                f"id: flavor {name} has id {current['id']}, not {flavor_id}; a flavor's id never changes "
                "(servers refer to it). Delete the flavor and create it again to change the id."
            )
        resized = [k for k in SIZE_FIELDS if wanted[k] is not None and wanted[k] != current[k]]
        if resized:
            users = servers_using(tx, current["id"])
            if users:
                raise Conflict(
                    f"Flavor {name} is used by servers {', '.join(users)}: its {', '.join(resized)} cannot change "
                    "while servers use it. Create a new flavor and resize the servers to it."
                )
        wanted["id"] = current["id"]
        return wanted

    def create(self, tx, desired):
        now = tx.now()
        row = {k: desired[k] for k in ("id", "name", *SIZE_FIELDS, *CREATE_DEFAULTS)}
        tx.execute(insert(tx.t.flavors), {**row, "disabled": False, "created_at": now})
        self._set_specs(tx, desired["id"], {}, desired["extra_specs"])

    def update(self, tx, current, desired, changes):
        columns = {k: v for k, v in changes.items() if k != "extra_specs"}
        f = tx.t.flavors
        tx.execute(update(f).where(f.c.id == current["id"]).values(**columns, updated_at=tx.now()))
        if "extra_specs" in changes:
            self._set_specs(tx, current["id"], current["extra_specs"], changes["extra_specs"])

    def delete(self, tx, current):
        # Servers keep their own copy of the flavor (as in Nova), so deleting is allowed.
        specs = tx.t.flavor_extra_specs
        tx.execute(delete(specs).where(specs.c.flavor_id == current["id"]))
        tx.execute(delete(tx.t.flavor_projects).where(tx.t.flavor_projects.c.flavor_id == current["id"]))
        tx.execute(delete(tx.t.flavors).where(tx.t.flavors.c.id == current["id"]))

    @staticmethod
    def _set_specs(tx, flavor_id, old: dict, new: dict):
        specs = tx.t.flavor_extra_specs
        gone = [k for k in old if k not in new]
        if gone:
            tx.execute(delete(specs).where(specs.c.flavor_id == flavor_id, specs.c.key.in_(gone)))
        for key, value in new.items():
            if key not in old:
                tx.execute(insert(specs), {"flavor_id": flavor_id, "key": key, "value": value})
            elif old[key] != value:
                tx.execute(update(specs).where(specs.c.flavor_id == flavor_id, specs.c.key == key).values(value=value))


_OPERATOR = re.compile(r"^\s*(>=|<=|>|<|==|=)?\s*(\d+)\s*$")


def _number_filter(field: str, text):
    if text is None:
        return None
    match = _OPERATOR.match(str(text))
    if not match:
        raise InvalidInput(field, f"must be a number, optionally after >=, <=, >, < or ==, got {text!r}")
    operator, number = match.group(1) or "==", int(match.group(2))
    tests = {
        ">=": lambda v: v >= number,
        "<=": lambda v: v <= number,
        ">": lambda v: v > number,
        "<": lambda v: v < number,
        "==": lambda v: v == number,
        "=": lambda v: v == number,
    }
    return tests[operator]


class FlavorInfo(Resource):
    result_key = "flavors"
    read_only = True

    def run(self, tx):
        p = self.params
        tests = {
            field: _number_filter(field, p.get(field)) for field in ("ram", "vcpus", "ephemeral") if p.get(field)
        }
        f = tx.t.flavors
        query = select(f).order_by(f.c.id)  # `openstack flavor list` sorts by id as text
        if p.get("name"):
            query = query.where(or_(f.c.name == p["name"], f.c.id == p["name"]))
        rows = [flavor_record(tx, row) for row in tx.all(query)]
        rows = [r for r in rows if all(test(r[field]) for field, test in tests.items())]
        limit = require_int("limit", p.get("limit"), minimum=1)
        if limit:
            rows = rows[:limit]
        return {"changed": False, "flavors": rows}
