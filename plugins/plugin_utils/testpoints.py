# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Named points where a fault test stops a run (then kills it with SIGKILL). Unset in real use.

``MINISTACK_TEST_STOP_AT=<point>`` and ``MINISTACK_TEST_STOP_FILE=<path>``: when a run reaches
that point it creates the file (holding its pid) and waits there, ten minutes at most, so that
the test kills it exactly there, or does something to the host meanwhile (restarts libvirtd)
and then removes the file: the run goes on from that point. The points:

- ``intent-recorded``: transaction 1 committed (the in-between status and the task), no host
  work done yet;
- ``host-work``: in the middle of the host work (a server's disk made, not yet its domain; a
  volume's LV made, not yet filled; an attach's target exported, not yet plugged; a ring's
  builder file written, not yet its ring file; a ring file's temporary copy written, not yet
  renamed);
- ``outcome``: the host work done, its outcome not yet recorded.
"""

from __future__ import annotations

import os
import time

STOP_AT = "MINISTACK_TEST_STOP_AT"
STOP_FILE = "MINISTACK_TEST_STOP_FILE"
MAX_WAIT_S = 600.0


_passed: set = set()


def reached(point: str) -> None:
    """Stop here if asked to; once let go on, a run does not stop at the point again."""
    if os.environ.get(STOP_AT) != point or not os.environ.get(STOP_FILE) or point in _passed:
        return
    _passed.add(point)
    with open(os.environ[STOP_FILE], "w", encoding="ascii") as handle:
        handle.write(str(os.getpid()))
    deadline = time.monotonic() + MAX_WAIT_S
    while time.monotonic() < deadline and os.path.exists(os.environ[STOP_FILE]):
        time.sleep(0.2)
