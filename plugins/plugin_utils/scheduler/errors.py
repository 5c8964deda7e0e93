# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduler exceptions."""

from __future__ import annotations

from ..errors import MinistackError


class SchedulerError(MinistackError):
    """Base class of the scheduler's errors; str() is the whole message."""


class NoValidHost(SchedulerError):
    """Nothing fits. The message starts "No valid host was found." as Nova's does."""

    def __init__(self, reason=""):
        self.reason = reason
        super().__init__(f"No valid host was found. {reason}".rstrip())


class SchedulerInputError(SchedulerError, ValueError):
    """Bad input: the message names the field and what it should be."""
