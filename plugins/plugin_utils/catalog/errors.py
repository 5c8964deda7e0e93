# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors the catalog raises. Each message is meant to be shown to the user as it is.

Action plugins turn any CatalogError into one failure message (see action_base), so the
text must name the resource or field and, where there is one, the fix. Wording follows
Nova and Cinder where they have an equivalent message.
"""

from __future__ import annotations

from ..errors import MinistackError


class CatalogError(MinistackError):
    """Base class: a request the catalog refused. ``str(err)`` is the user's message."""


class CatalogUnavailable(CatalogError):
    """The catalog database could not be opened, migrated or locked in time."""


class NotFound(CatalogError):
    """A referenced resource does not exist."""


class Conflict(CatalogError):
    """The request contradicts what the catalog holds (in use, duplicate, wrong zone)."""


class InvalidInput(CatalogError):
    """An option value is not acceptable. Names the field and says what would be."""

    def __init__(self, field: str, problem: str):
        self.field = field
        super().__init__(f"{field}: {problem}")


class OverQuota(CatalogError):
    """A project quota would be exceeded (Nova's and Cinder's messages)."""


class NoValidHost(CatalogError):
    """The scheduler found no host; message as Nova's NoValidHost."""

    def __init__(self, reason: str = ""):
        self.reason = reason
        super().__init__(f"No valid host was found. {reason}")


class ClaimFailed(CatalogError):
    """A host has no room left for a claim (Nova's ComputeResourcesUnavailable)."""

    def __init__(self, host: str, reason: str):
        self.host = host
        self.reason = reason
        super().__init__(f"Insufficient compute resources on host {host}: {reason}.")
