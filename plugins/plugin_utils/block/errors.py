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


class InvalidInput(BlockError):
    """Bad request: the message names the field and the fix."""


class NoValidBackend(BlockError):
    def __init__(self, reason):
        super().__init__(f"No valid backend was found. {reason}")


class QuotaExceeded(BlockError):
    """Raised with Cinder's own quota messages (HTTP 413 there)."""


class NotFound(BlockError):
    pass
