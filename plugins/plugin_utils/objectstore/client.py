# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin Swift client over an openstacksdk connection."""

from __future__ import annotations

import functools
import json
from urllib.parse import quote

from ..errors import MinistackError

META_PREFIX = {"account": "x-account-meta-", "container": "x-container-meta-", "object": "x-object-meta-"}


class ObjectStoreError(MinistackError):
    """One message for the task's failure."""


def connect(params: dict):
    """An openstacksdk Connection from the modules' connection options."""
    try:
        import openstack
    except ImportError as exc:  # pragma: no cover - the controller's requirements include it
        raise ObjectStoreError(
            "openstacksdk is required on the controller (pip install openstacksdk)."
        ) from exc
    kwargs: dict = {}
    if params.get("cloud"):
        kwargs["cloud"] = params["cloud"]
    auth = params.get("auth") or {}
    if auth:
        kwargs["auth"] = dict(auth)
    if params.get("auth_type"):
        kwargs["auth_type"] = params["auth_type"]
    if params.get("region_name"):
        kwargs["region_name"] = params["region_name"]
    if params.get("ca_cert"):
        kwargs["cacert"] = params["ca_cert"]
    kwargs["verify"] = bool(params.get("validate_certs", True))
    if params.get("timeout"):
        kwargs["timeout"] = params["timeout"]
    if not kwargs.get("cloud") and not auth.get("auth_url"):
        raise ObjectStoreError(
            "auth.auth_url is required (for tempauth: http://<proxy>:8080/auth/v1.0), or name a cloud from clouds.yaml in cloud."
        )
    if params.get("auth_type") is not None:
        plugins = _auth_plugins()
        if plugins and params["auth_type"] not in plugins:
            raise ObjectStoreError(f"auth_type: {params['auth_type']!r} is not a keystoneauth plugin; use v1password "
                                   "(Swift's tempauth) or one of " + ", ".join(sorted(plugins)))
    # Which of the task's connection options were used, so that a failure points at them.
    used = ", ".join(f"{name} {params[name]!r}" for name in ("cloud", "auth_type", "region_name", "ca_cert")
                     if params.get(name) is not None)
    try:
        conn = openstack.connect(load_yaml_config=bool(params.get("cloud")), load_envvars=False, **kwargs)
        return Swift(conn)
    except Exception as exc:  # openstacksdk raises many types here; all mean "cannot connect"
        raise ObjectStoreError(f"Cannot connect to the object store (auth.auth_url, {used}): {exc}") from exc


@functools.lru_cache(maxsize=1)
def _auth_plugins() -> frozenset:
    """keystoneauth's plugin names (password, v1password, token, ...), or empty when unknown.
    Found through stevedore's entry points (0.15 s): once per process."""
    try:
        from keystoneauth1 import loading

        return frozenset(loading.get_available_plugin_names())
    except Exception:  # keystoneauth reports a missing plugin itself on connect
        return frozenset()


DOT_SEGMENTS = (".", "..")


def dot_segment(name: str | None) -> bool:
    """True when a name has a ``.`` or ``..`` path segment: the HTTP stack (requests, urllib3)
    resolves them before the request leaves, so ``scratch/../photos/cat.jpg`` would reach Swift
    as ``photos/cat.jpg`` and a container ``.`` as the account. Percent-encoding does not help
    (``%2E`` is an unreserved character: requests decodes it back). Such names are refused."""
    return name is not None and any(segment in DOT_SEGMENTS for segment in name.split("/"))


def _path(container: str | None = None, name: str | None = None) -> str:
    if dot_segment(container) or dot_segment(name):
        # The resources refuse these names with a message naming the field; this is the last guard.
        raise ObjectStoreError(f"Refusing a Swift path with a '.' or '..' segment: {container}/{name or ''}")
    path = ""
    if container is not None:
        path += "/" + quote(container, safe="")
    if name is not None:
        path += "/" + quote(name, safe="/")
    return path


class Swift:
    """Requests to the account's storage URL; every status is checked here."""

    def __init__(self, conn):
        self.conn = conn
        self.store = conn.object_store

    def request(self, method: str, container=None, name=None, ok=(200, 201, 202, 204), query=None, **kwargs):
        url = _path(container, name)
        if query:
            url += "?" + "&".join(
                f"{k}={quote(str(v), safe='')}" if v is not None else k for k, v in query.items()
            )
        try:
            resp = getattr(self.store, method.lower())(url, raise_exc=False, **kwargs)
        except Exception as exc:
            raise ObjectStoreError(f"{method} {url} failed: {exc}") from exc
        if resp.status_code not in ok:
            what = "/".join(p for p in (container, name) if p is not None) or "account"
            detail = (resp.text or "").strip().replace("\n", " ")[:300]
            raise ObjectStoreError(
                f"{method} {what} failed: {resp.reason or ''} (HTTP {resp.status_code}). {detail}".strip()
            )
        return resp

    def policies(self):
        """The cluster's storage policies from GET /info (name, aliases, default), or None without /info."""
        try:
            root = self.store.get_endpoint().split("/v1/")[0]
            resp = self.store.get(root + "/info", raise_exc=False)
            if resp.status_code != 200:
                return None
            return resp.json().get("swift", {}).get("policies")
        except Exception:  # /info is optional in Swift; the PUT still checks the name
            return None

    def head(self, container=None, name=None):
        """Headers (lower-case keys), or None when the resource does not exist."""
        resp = self.request("HEAD", container, name, ok=(200, 204, 404))
        if resp.status_code == 404:
            return None
        return {k.lower(): v for k, v in resp.headers.items()}

    def listing(self, container=None, prefix=None, limit=None):
        """Every entry of an account (containers) or container (objects) listing, paged."""
        entries: list = []
        marker = ""
        while True:
            query = {"format": "json"}
            if prefix:
                query["prefix"] = prefix
            if marker:
                query["marker"] = marker
            resp = self.request("GET", container, ok=(200, 204, 404), query=query)
            if resp.status_code == 404:
                if container is None:
                    return entries
                raise ObjectStoreError(f"Container {container} not found (HTTP 404).")
            page = json.loads(resp.text or "[]") if resp.status_code == 200 else []
            if not page:
                return entries
            entries.extend(page)
            if limit and len(entries) >= limit:
                return entries[:limit]
            marker = page[-1].get("name") or page[-1].get("subdir")


def metadata_of(headers: dict, kind: str) -> dict:
    prefix = META_PREFIX[kind]
    return {k[len(prefix) :]: v for k, v in sorted(headers.items()) if k.startswith(prefix)}
