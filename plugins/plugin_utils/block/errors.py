# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the block library, worded as Cinder words them."""

from __future__ import annotations

from ..errors import MinistackError
from ..hostrunner import HostCommandFailed, HostCommandTimedOut


class BlockError(MinistackError):
    """A block operation failed; the message is meant for the user as-is."""


class CommandFailed(HostCommandFailed, BlockError):
    """A host command failed (the one host runner's error), as a block error."""


class CommandTimedOut(HostCommandTimedOut, BlockError):
    """A host command ran past its time limit (killed), as a block error."""


class InvalidInput(BlockError):
    """Bad request: the message names the field and the fix."""


class NoValidBackend(BlockError):
    def __init__(self, reason):
        super().__init__(f"No valid backend was found. {reason}")


class QuotaExceeded(BlockError):
    """Raised with Cinder's own quota messages (HTTP 413 there)."""


class NotFound(BlockError):
    pass
