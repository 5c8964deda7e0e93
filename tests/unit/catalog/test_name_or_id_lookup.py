"""catalog.lookup.find: the one name-or-id lookup, with the openstack client's contract."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.ministack.cloud.plugins.plugin_utils.catalog import (
    Conflict,
    NotFound,
    default_project,
    lookup,
)
from sqlalchemy import insert


def _images(catalog, *rows):
    with catalog.begin() as tx:
        project = default_project(tx)["id"]
        tx.execute(insert(tx.t.projects), {"id": "someone-else", "name": "someone-else", "is_default": False,
                                           "created_at": datetime.datetime(2025, 1, 1)})
        for image_id, name, owner in rows:
            tx.execute(insert(tx.t.images), {"id": image_id, "name": name, "project_id": owner or project,
                                             "created_at": datetime.datetime(2025, 1, 1)})
    return project


def test_exact_id_first_then_the_one_name(catalog):
    _images(catalog, ("id-a", "web", None), ("web", "other", None))
    with catalog.read() as tx:
        t = tx.t.images
        assert lookup.find(tx, t, "web", "image")["id"] == "web"  # an id beats a name
        assert lookup.find(tx, t, "other", "image")["id"] == "web"
        assert lookup.find(tx, t, "id-a", "image")["name"] == "web"
        assert lookup.find(tx, t, "nothing", "image") is None


def test_several_names_and_none_in_openstack_wording(catalog):
    project = _images(catalog, ("i1", "twin", None), ("i2", "twin", "someone-else"))
    with catalog.read() as tx:
        t = tx.t.images
        with pytest.raises(Conflict, match=r"^More than one image exists with the name 'twin'\.$"):
            lookup.find(tx, t, "twin", "image")
        with pytest.raises(NotFound, match=r"^No image with a name or ID of 'gone' exists\.$"):
            lookup.find(tx, t, "gone", "image", required=True)
        # narrowed: where (both matches), names_where (the name only), prefer (among several)
        assert lookup.find(tx, t, "twin", "image", where=[t.c.project_id == project])["id"] == "i1"
        assert lookup.find(tx, t, "i2", "image", names_where=[t.c.project_id == project])["id"] == "i2"
        assert lookup.find(tx, t, "twin", "image", prefer=lambda row: row["project_id"] == project)["id"] == "i1"
