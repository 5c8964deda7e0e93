# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render results as the openstack CLI prints them (cliff's table formatter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError


def _cell(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Mapping):
        # openstack prints properties as key='value', sorted by key
        return ", ".join(f"{k}='{_cell(v)}'" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


# -------------------------------------------------------------------- the CLI's layouts
# Modules return plain data (docs/architecture.md, "What a module returns"). What the openstack
# CLI prints for a resource, its field names and value formats, is this filter's job: a layout
# maps each CLI field (or list column) to the plain key it shows and, where the CLI formats
# the value, a function of it. A formatter named with a key of None gets the whole item.
_OMIT = object()  # a formatter's answer for a field the CLI does not print for this item


def _or_empty(value):
    return "" if value is None else value


def _addresses(value):
    """``intnet=10.5.5.29, 10.5.5.30; extnet=10.6.0.5``, as novaclient prints addresses."""
    by_net: dict = {}
    for entry in value or []:
        by_net.setdefault(entry.get("network"), []).append(entry.get("address"))
    return "; ".join(f"{net}={', '.join(ips)}" for net, ips in by_net.items())


def _name_and_id(value):
    """``m1.tinier (10)``: a flavor or an image; the empty string for none."""
    if not value:
        return ""
    name = value.get("name")
    return f"{'' if name is None else name} ({value.get('id')})"


def _lines_of_ids(value):
    """``volumes_attached``: one ``id='...'`` line per volume."""
    return "\n".join(f"id='{v.get('id')}'" for v in value or [])


def _lower_bool(value):
    """Cinder's booleans that the API gives as strings: ``true`` / ``false``."""
    return "true" if value else "false"


#: the fields of a Cinder attachment, as `openstack volume show` prints them
_ATTACHMENT_FIELDS = ("attached_at", "attachment_id", "device", "host_name", "id", "server_id", "volume_id")


def _attachments(value):
    return [{k: a.get(k) for k in _ATTACHMENT_FIELDS} for a in value or []]


def _attached_to(volume):
    """`openstack volume list`'s ``Attached to``: ``Attached to <server> on <device>``."""
    return "".join(f"Attached to {a.get('server_name') or a.get('server_id')} on {a.get('device')} "
                   for a in volume.get("attachments") or []).strip()


LAYOUTS = {
    "server": {
        "OS-DCF:diskConfig": "disk_config",
        "OS-EXT-AZ:availability_zone": ("availability_zone", _or_empty),
        "OS-EXT-SRV-ATTR:host": "host",
        "OS-EXT-SRV-ATTR:hypervisor_hostname": "hypervisor_hostname",
        "OS-EXT-SRV-ATTR:instance_name": ("instance_name", _or_empty),
        "OS-EXT-STS:power_state": "power_state",
        "OS-EXT-STS:task_state": "task_state",
        "OS-EXT-STS:vm_state": "vm_state",
        "OS-SRV-USG:launched_at": "launched_at",
        "OS-SRV-USG:terminated_at": "terminated_at",
        "accessIPv4": "access_ipv4",
        "accessIPv6": "access_ipv6",
        "addresses": ("addresses", _addresses),
        "config_drive": ("config_drive", lambda v: "True" if v else ""),
        "created": "created",
        "flavor": ("flavor", _name_and_id),
        "hostId": "host_id",
        "id": "id",
        "image": ("image", _name_and_id),
        "key_name": "key_name",
        "name": "name",
        "progress": "progress",
        "project_id": "project_id",
        "properties": "metadata",
        "security_groups": "security_groups",
        "status": "status",
        "updated": "updated",
        "user_id": "user_id",
        "volumes_attached": ("volumes_attached", _lines_of_ids),
        # `openstack server list`
        "ID": "id", "Name": "name", "Status": "status", "Networks": ("addresses", _addresses),
        "Image": ("image", lambda v: (v or {}).get("name") or ""),
        "Flavor": ("flavor", lambda v: (v or {}).get("name") or ""),
    },
    "volume": {
        "attachments": ("attachments", _attachments),
        "availability_zone": "availability_zone",
        "bootable": ("bootable", _lower_bool),
        "consistencygroup_id": "consistencygroup_id",
        "created_at": "created_at",
        "description": "description",
        "encrypted": "encrypted",
        "id": "id",
        "migration_status": "migration_status",
        "multiattach": "multiattach",
        "name": "name",
        "properties": "properties",
        "replication_status": "replication_status",
        "size": "size",
        "snapshot_id": "snapshot_id",
        "source_volid": "source_volid",
        "status": "status",
        "type": "type",
        "updated_at": "updated_at",
        "user_id": "user_id",
        # `openstack volume list`
        "ID": "id", "Name": "name", "Status": "status", "Size": "size", "Attached to": (None, _attached_to),
    },
    "object": {
        "account": "account",
        "container": "container",
        "content-length": "content_length",
        "content-type": "content_type",
        "etag": "etag",
        "last-modified": "last_modified",
        "object": "object",
        "properties": "properties",
        # printed only for a static large object, as Swift sends the header only then
        "x-static-large-object": ("static_large_object", lambda v: True if v else _OMIT),
    },
    "backup": {"ID": "id", "Name": "name", "Description": "description", "Status": "status", "Size": "size",
               "Incremental": "is_incremental"},
    "volume_service": {"Binary": "binary", "Host": "host", "Zone": "zone", "Status": "status", "State": "state",
                       "Updated At": "updated_at"},
}


def _layout(resource):
    if resource is None:
        return {}
    if resource not in LAYOUTS:
        raise AnsibleFilterError(f"resource: {resource!r} has no CLI layout; use one of {', '.join(sorted(LAYOUTS))} "
                                 "or give [header, key] pairs")
    return LAYOUTS[resource]


def _value(item, field, key, layout):
    """The value the CLI shows for ``field``: ``key`` read from the item, formatted by the layout."""
    spec = layout.get(field) if key == field else None
    if spec is None:
        return (item or {}).get(key)
    if isinstance(spec, str):
        return (item or {}).get(spec)
    spec_key, formatter = spec
    return formatter(item or {}) if spec_key is None else formatter((item or {}).get(spec_key))


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _render(headers: list[str], rows: list[list], right: list[bool]) -> str:
    # As cliff does: a column whose values are all numbers is right-aligned, header included.
    right = [
        allowed and any(_numeric(row[i]) for row in rows) and all(_numeric(row[i]) or row[i] is None for row in rows)
        for i, allowed in enumerate(right)
    ]
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], max((len(line) for line in text.splitlines()), default=0))
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values, align_right):
        # A cell with newlines spans several text lines, the other cells blank below their
        # first line, as cliff (prettytable) prints volumes_attached and the like.
        split = [text.splitlines() or [""] for text in values]
        height = max(len(lines) for lines in split)
        printed = []
        for n in range(height):
            parts = []
            for lines, width, is_right in zip(split, widths, align_right):
                text = lines[n] if n < len(lines) else ""
                parts.append(" " + (text.rjust(width) if is_right else text.ljust(width)) + " ")
            printed.append("|" + "|".join(parts) + "|")
        return "\n".join(printed)

    out = [rule, line(headers, right), rule]
    for row in cells:
        out.append(line(row, right))
    out.append(rule)
    return "\n".join(out)


def cli_table(rows, columns, resource=None):
    """A list of dicts as `openstack <thing> list` prints it.

    With ``resource`` (server, volume, volume_service), a column given as a header alone is
    the CLI's column of that resource, read and formatted from the plain data."""
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise AnsibleFilterError("cli_table: the input must be a list of dicts, e.g. the 'flavors' of flavor_info")
    layout = _layout(resource)
    pairs = []
    for col in columns:
        if isinstance(col, str):
            pairs.append((col, col))
        elif isinstance(col, Sequence) and len(col) == 2:
            pairs.append((str(col[0]), str(col[1])))
        else:
            raise AnsibleFilterError(f"cli_table: column {col!r} must be a key or a [header, key] pair")
    headers = [header for header, _key in pairs]
    body = [[_value(row, header, key, layout) for header, key in pairs] for row in rows]
    return _render(headers, body, [True] * len(pairs))


def cli_show(item, fields=None, resource=None):
    """One resource as `openstack <thing> show` prints it: a Field/Value table sorted by field.

    With ``resource`` (server, volume), the fields are the CLI's (``OS-EXT-STS:vm_state``,
    ``addresses``, ...), read and formatted from the plain data; all of them when ``fields``
    is omitted."""
    if not isinstance(item, Mapping):
        raise AnsibleFilterError("cli_show: the input must be a dict, e.g. the 'server' a server task returns")
    layout = _layout(resource)
    if fields:
        keys = list(fields)
    elif layout:
        keys = sorted(k for k in layout if k[:1].islower() or ":" in k)
    else:
        keys = sorted(item)
    rows = [[k, _value(item, k, k, layout)] for k in keys]
    # cliff left-aligns every value in a show table
    return _render(["Field", "Value"], [row for row in rows if row[1] is not _OMIT], [False, False])


class FilterModule:
    def filters(self):
        return {"cli_table": cli_table, "cli_show": cli_show}
