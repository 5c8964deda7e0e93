# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one root of the library's errors.

Every error the library raises for the user derives from ``MinistackError``: the catalog's
(``CatalogError`` and its kinds, compute's ``ComputeError``), the scheduler's, the ring's,
block's and the object store's. ``str(err)`` is the whole message, in OpenStack's own
wording where OpenStack has one ("No valid host was found. ...", "Invalid volume: ..."),
naming the field and the fix where the user can act. The action bases turn any
``MinistackError`` into one failure message, so a service may let another service's error
through unchanged.
"""

from __future__ import annotations


class MinistackError(Exception):
    """Base of every error the library reports to the user; str() is the message."""
