# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's calls to the object store for backups: authenticate (with the object
modules' settings), make the container, check metadata objects, remove a backup's objects.
No volume byte goes through here: the block host moves those."""

from __future__ import annotations

from ..catalog.errors import CatalogError
from ..objectstore.client import ObjectStoreError, connect


class StoreError(CatalogError):
    """The object store refused or did not answer (message names the object and the fix)."""


class Store:
    def __init__(self, params: dict):
        self.params = params
        self._swift = None

    @property
    def swift(self):
        if self._swift is None:
            try:
                self._swift = connect(self.params)
            except ObjectStoreError as err:
                raise StoreError(f"object store: {err}") from None
        return self._swift

    def credentials(self) -> tuple[str, str]:
        """(storage URL, token) for the block host; ``swift_url`` overrides the URL (Cinder's
        backup_swift_url), for a block host that reaches the proxy by another address."""
        try:
            conn = self.swift.conn
            token = conn.session.get_token()
            url = self.params.get("swift_url") or conn.object_store.get_endpoint()
        except Exception as err:  # keystoneauth raises many types; all mean "cannot authenticate"
            raise StoreError(f"object store: cannot authenticate: {err}") from None
        return url.rstrip("/"), token

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ObjectStoreError as err:
            raise StoreError(f"object store: {err}") from None

    def ensure_container(self, container: str) -> None:
        if self._call(self.swift.head, container) is None:
            self._call(self.swift.request, "PUT", container, ok=(201, 202))

    def exists(self, container: str, name: str) -> bool:
        return self._call(self.swift.head, container, name) is not None

    def names(self, container: str, prefix: str) -> list[str]:
        if self._call(self.swift.head, container) is None:
            return []
        return [e["name"] for e in self._call(self.swift.listing, container, prefix=prefix)]

    def remove_prefix(self, container: str, prefix: str) -> int:
        """Delete every object of one backup (its prefix); returns how many."""
        names = self.names(container, prefix)
        for name in names:
            self._call(self.swift.request, "DELETE", container, name, ok=(204, 404))
        return len(names)
