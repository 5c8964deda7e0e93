"""Machine-wide locks for test runs that share one machine.

Several checkouts may test on one machine at once. Two things on it are single:
- the Swift that the object roles deploy (``/etc/swift``, port 8080), which the object, backup,
  walkthrough and reset tests each (re)deploy;
- the machine itself, which ``scripts/reset.sh`` wipes (every pool, network, target, lab).

So a pytest session takes, for its whole length, a shared "machine" lock when it runs any
integration test (an exclusive one when it runs the reset test) and an exclusive "swift" lock
when it runs an area that deploys Swift. Inside one ``.ci/run`` there is one session, so the
locks never wait there. ``MINISTACK_MACHINE_LOCK_HELD=1`` says a parent (for example
``scripts/check-areas-from-zero.sh``) already holds the machine lock exclusively.
"""

from __future__ import annotations

import fcntl
import os
import pathlib
import sys
import time

LOCK_DIR = pathlib.Path(os.environ.get("MINISTACK_LOCK_DIR", "/run/lock"))
# integration areas whose fixtures deploy or reconfigure this machine's Swift. Not "hosts": its
# test deploys Swift only inside its podman lab hosts (their own ports and /etc/swift), and it runs
# for most of an hour, which would hold every other checkout's Swift tests back.
# Likewise object/test_lab.py, which tests/conftest.py counts as the area "object-lab".
SWIFT_AREAS = frozenset({"aaa_reset", "backup", "object", "walkthrough"})


# While it exists, a run wanting the machine exclusively is waiting: new shared takers hold
# back, or a steady stream of overlapping test runs would starve it (flock is not fair).
MACHINE_WANTED = LOCK_DIR / "ministack-machine.wanted"


def take(name: str, exclusive: bool):
    """Open and lock LOCK_DIR/name; say so on stderr while waiting. Returns the open file."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    if name == "ministack-machine.lock" and not exclusive and MACHINE_WANTED.exists():
        sys.__stderr__.write(f"waiting: {MACHINE_WANTED} says a run wants this machine to itself\n")
        while MACHINE_WANTED.exists():
            time.sleep(5)
    handle = open(LOCK_DIR / name, "a+")  # held for the session, closed by release()
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
        return handle
    except BlockingIOError:
        pass
    started = time.monotonic()
    sys.__stderr__.write(f"waiting for {LOCK_DIR / name}: another test run on this machine holds it\n")
    fcntl.flock(handle, mode)
    sys.__stderr__.write(f"took {LOCK_DIR / name} after {time.monotonic() - started:.0f} s\n")
    return handle


def locks_for(areas: set[str], reset_enabled: bool) -> list[tuple[str, bool]]:
    """The (lock name, exclusive) pairs a session running these integration areas needs."""
    wanted = []
    if areas and os.environ.get("MINISTACK_MACHINE_LOCK_HELD") != "1":
        wanted.append(("ministack-machine.lock", reset_enabled and "aaa_reset" in areas))
    if areas & SWIFT_AREAS:
        wanted.append(("ministack-swift.lock", True))
    return wanted


def release(handles) -> None:
    for handle in handles:
        handle.close()
