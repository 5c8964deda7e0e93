# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching many hosts at once, within one deadline: the controller's heartbeats of compute
hosts (compute/heartbeat.py) and block hosts (block/heartbeat.py) share it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Callable


def not_reached_within(services: Iterable[dict], now: datetime, seconds: float) -> list:
    """The enabled services whose host the controller has not reached in the last ``seconds``."""
    return [svc for svc in services
            if svc.get("enabled", True) and (svc.get("last_seen") is None
                                             or (now - svc["last_seen"]).total_seconds() > seconds)]


def answers_within(calls: dict[str, Callable], timeout: float) -> dict:
    """Run every call at once, each in its own thread, and wait ``timeout`` seconds at most for
    all of them together. Returns {key: value} of the calls that returned by then; one that raised
    or is still running has no entry (its thread is a daemon, left to end on its own)."""
    answers: dict = {}

    def run(key, call):
        try:
            answers[key] = call()
        except Exception:
            pass

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in calls.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return dict(answers)  # a late answer, after the deadline, is not taken
