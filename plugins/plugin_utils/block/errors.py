# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the block library, worded as Cinder words them."""

from __future__ import annotations

from ..errors import MinistackError


class BlockError(MinistackError):
    """A block operation failed; the message is meant for the user as-is."""


class CommandFailed(BlockError):
    def __init__(self, argv, rc, stdout, stderr):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout or "").strip().splitlines()
        tail = detail[-1] if detail else ""
        super().__init__(f"Command {argv[0]} failed (exit {rc}): {tail}")


class CommandTimedOut(BlockError):
    """A host command ran past its time limit (killed). One line; the argv is not shown, it may
    hold a secret."""

    def __init__(self, command, seconds):
        self.command = command
        self.seconds = seconds
        super().__init__(f"Command {command} did not finish within {seconds:g} s and was stopped.")


class InvalidInput(BlockError):
    """Bad request: the message names the field and the fix."""


class NoValidBackend(BlockError):
    def __init__(self, reason):
        super().__init__(f"No valid backend was found. {reason}")


class QuotaExceeded(BlockError):
    """Raised with Cinder's own quota messages (HTTP 413 there)."""


class NotFound(BlockError):
    pass
