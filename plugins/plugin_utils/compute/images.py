# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images (Glance's stand-in): registered in the catalog, bytes in a controller directory.

An image's data is immutable, as in Glance: registering the same name again with other
bytes (or another disk_format) fails instead of silently keeping or replacing the old data.
"""

from __future__ import annotations

import os
import uuid

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import delete, insert, select, update
except ImportError:
    pass

from ..catalog import Conflict, InvalidInput, NotFound, find_project, lookup
from ..catalog.resource import Resource, iso, require_int, require_name, string_dict
from . import ComputeError, imagefile

VISIBILITIES = ("public", "private", "shared", "community")
# Properties Glance computes itself: a user may not set them.
RESERVED_PROPERTIES = ("os_hash_algo", "os_hash_value", "os_hidden", "stores", "checksum", "size",
                       "virtual_size", "owner", "id", "status", "file", "schema")


def store_dir(tx, context: dict) -> str:
    """Where image bytes live: the task var ministack_image_store, else beside a SQLite
    catalog (``<catalog dir>/images``), else ~/.ministack/images."""
    chosen = (context or {}).get("image_store")
    if chosen:
        return os.path.abspath(os.path.expanduser(chosen))
    url = tx.catalog.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return os.path.join(os.path.dirname(os.path.abspath(url.database)), "images")
    return os.path.expanduser("~/.ministack/images")


def image_record(row: dict) -> dict:
    """An image as ``openstack image show`` prints it (plus top-level hash fields, as the SDK)."""
    props = dict(row.get("properties") or {})
    shown = {**props, "os_hash_algo": row["os_hash_algo"], "os_hash_value": row["os_hash_value"],
             "os_hidden": False, "stores": "file"}
    return {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "checksum": row["checksum"],
        "container_format": row["container_format"],
        "disk_format": row["disk_format"],
        "file": f"/v2/images/{row['id']}/file",
        "min_disk": row["min_disk"],
        "min_ram": row["min_ram"],
        "owner": row["project_id"],
        "project_id": row["project_id"],
        "properties": shown,
        "os_hash_algo": row["os_hash_algo"],
        "os_hash_value": row["os_hash_value"],
        "protected": bool(row["protected"]),
        "is_protected": bool(row["protected"]),
        "schema": "/v2/schemas/image",
        "size": row["size"],
        "tags": list(row.get("tags") or []),
        "virtual_size": row["virtual_size"],
        "visibility": row["visibility"],
        "location": row["location"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def find_image_row(tx, name_or_id: str, project_id: str | None = None):
    """The image with this id, else the one image with this name (visible to the project)."""
    return lookup.find(tx, tx.t.images, name_or_id, "image",
                       prefer=None if project_id is None else (lambda row: row["project_id"] == project_id))


def require_image(tx, name_or_id: str, project_id: str | None = None) -> dict:
    row = find_image_row(tx, name_or_id, project_id)
    if row is None:
        raise NotFound(f"No image with a name or ID of '{name_or_id}' exists.")
    if row["status"] != "active":
        raise Conflict(f"Image {name_or_id} is not active (status {row['status']}).")
    return row


def image_path(row: dict) -> str:
    location = row.get("location") or ""
    if not location.startswith("file://"):
        raise ComputeError(f"Image {row['id']} has no data in the controller store (location {location!r})")
    return location[len("file://"):]


class Image(Resource):
    """ministack.cloud.image: register an image file (state present) or delete it."""

    result_key = "image"
    compared = ("min_disk", "min_ram", "visibility", "protected", "tags", "properties")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inspected = None

    def prepare(self) -> None:
        """Checksum the file before the write transaction opens (it can take a while)."""
        p = self.params
        if (p.get("state") or "present") == "present" and p.get("filename"):
            self._inspected = imagefile.inspect(p["filename"], p.get("disk_format") or "qcow2")

    def find(self, tx):
        row = find_image_row(tx, self.params.get("id") or self.params["name"],
                             self.context.get("project_id"))
        return image_record(row) if row else None

    def desired(self, tx, current):
        p = self.params
        name = require_name("name", p["name"])
        project = find_project(tx, p.get("project"))
        props = string_dict("properties", p.get("properties")) or None
        for key in props or {}:
            if key in RESERVED_PROPERTIES:
                raise InvalidInput("properties", f"{key} is computed by the image service and cannot be set")
        want = {
            "name": name,
            "project_id": project["id"],
            "disk_format": p.get("disk_format") or "qcow2",
            "container_format": p.get("container_format") or "bare",
            "min_disk": require_int("min_disk", p.get("min_disk"), unit="GB"),
            "min_ram": require_int("min_ram", p.get("min_ram"), unit="MB"),
            "visibility": p.get("visibility"),
            "protected": p.get("protected"),
            "tags": sorted(set(p["tags"])) if p.get("tags") is not None else None,
            "properties": props,
        }
        if current is None:
            if not p.get("filename"):
                raise InvalidInput("filename", f"is required to create image {name} (a qcow2 or raw file "
                                               "on the controller)")
            want.update(self._inspected)
            want.setdefault("visibility", None)
            return want
        for field in ("disk_format", "container_format"):
            if p.get(field) and p[field] != current[field]:
                raise Conflict(f"Image {name} exists with {field} {current[field]}; {field} cannot be "
                               f"changed (image data is immutable): register a new image instead.")
        if self._inspected and self._inspected["checksum"] != current["checksum"]:
            raise Conflict(f"Image {name} exists with other data (checksum {current['checksum']}, the file has "
                           f"{self._inspected['checksum']}); image data is immutable: register it under "
                           "another name, or delete the old image first.")
        if props is not None:
            # Properties given are set; others the image has are kept (Glance's PATCH add/replace).
            merged = {k: v for k, v in current["properties"].items() if k not in RESERVED_PROPERTIES}
            merged.update(props)
            want["properties"] = merged
        return want

    def changes(self, current, desired):
        out = super().changes(current, desired)
        if "properties" in out:
            mine = {k: v for k, v in current["properties"].items() if k not in RESERVED_PROPERTIES}
            if mine == desired["properties"]:
                out.pop("properties")
        return out

    def create(self, tx, desired):
        image_id = str(uuid.uuid4())
        location = None
        if not self.check_mode:
            store = imagefile.FileStore(store_dir(tx, self.context))
            path = store.put(image_id, self.params["filename"])
            self.on_rollback(lambda: store.delete(image_id), f"removing image file {image_id}")
            location = "file://" + path
        now = tx.now()
        tx.execute(insert(tx.t.images), {
            "id": image_id, "name": desired["name"], "project_id": desired["project_id"], "status": "active",
            "visibility": desired["visibility"] or "shared", "protected": bool(desired["protected"]),
            "disk_format": desired["disk_format"], "container_format": desired["container_format"],
            "size": desired["size"], "virtual_size": desired["virtual_size"], "checksum": desired["checksum"],
            "os_hash_algo": desired["os_hash_algo"], "os_hash_value": desired["os_hash_value"],
            "min_disk": desired["min_disk"] or 0, "min_ram": desired["min_ram"] or 0, "location": location,
            "properties": desired["properties"] or {}, "tags": desired["tags"] or [], "created_at": now,
            "updated_at": now,
        })
        self.params = {**self.params, "id": image_id}

    def update(self, tx, current, desired, changes):
        values = dict(changes)
        values["updated_at"] = tx.now()
        tx.execute(update(tx.t.images).where(tx.t.images.c.id == current["id"]).values(**values))

    def delete(self, tx, current):
        if current["protected"]:
            raise Conflict(f"Image {current['id']} is protected and cannot be deleted.")
        tx.execute(delete(tx.t.images).where(tx.t.images.c.id == current["id"]))
        if not self.check_mode and current.get("location", "").startswith("file://"):
            path = current["location"][len("file://"):]
            # Removed after the commit would be safer, but a failed commit keeps the row and
            # loses the bytes: instead move the file aside and put it back on rollback.
            aside = path + ".deleting"
            if os.path.exists(path):
                os.replace(path, aside)
                self.on_rollback(lambda: os.replace(aside, path), f"putting back {path}")
                self.after_commit = lambda: os.path.exists(aside) and os.unlink(aside)

    def for_diff(self, record):
        if record is None:
            return {}
        return {k: v for k, v in record.items() if k not in ("created_at", "updated_at", "location")}


class ImageInfo(Resource):
    result_key = "images"
    read_only = True

    def run(self, tx):
        t = tx.t.images
        query = select(t).order_by(t.c.name, t.c.id)
        image = self.params.get("image")
        rows = tx.all(query)
        if image:
            rows = [r for r in rows if image in (r["id"], r["name"])]
        filters = self.params.get("filters") or {}
        out = []
        for row in rows:
            rec = image_record(row)
            if all(str(rec.get(k)) == str(v) for k, v in filters.items()):
                out.append(rec)
        return {"changed": False, "images": out}
