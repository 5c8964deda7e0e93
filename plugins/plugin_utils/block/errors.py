# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the block library, worded as Cinder words them."""

from __future__ import annotations

from .. import hostrunner
from ..errors import MinistackError


class BlockError(MinistackError):
    """A block operation failed; the message is meant for the user as-is."""


class CommandFailed(hostrunner.HostCommandFailed, BlockError):
    """A block host command exited non-zero: the host runner's failure, as a block error (the
    message and the argv/rc/stdout/stderr fields are the runner's)."""


class CommandTimedOut(hostrunner.HostCommandTimedOut, BlockError):
    """A host command ran past its time limit (killed): the runner's, as a block error."""


class InvalidInput(BlockError):
    """Bad request: the message names the field and the fix."""


class NoValidBackend(BlockError):
    def __init__(self, reason):
        super().__init__(f"No valid backend was found. {reason}")


class QuotaExceeded(BlockError):
    """Raised with Cinder's own quota messages (HTTP 413 there)."""


class NotFound(BlockError):
    pass
