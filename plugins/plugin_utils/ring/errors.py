# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ring errors."""

from __future__ import annotations

from ..errors import MinistackError


class RingError(MinistackError, ValueError):
    """Bad input or an impossible ring; str() is the whole message, naming the field."""
