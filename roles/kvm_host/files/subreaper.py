"""Run a daemon in the foreground as a child subreaper, and reap every orphan at once.

Without systemd, orphaned processes go to PID 1. libvirt daemonizes QEMU, and when a guest
is destroyed it waits until the QEMU process is gone; if PID 1 reaps zombies late (some
container and sandbox inits do, about 1.7 s here), every destroy waits that long. Started as
``subreaper.py libvirtd``, the QEMU processes become our children and are reaped at once.
"""

import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    main_pid = os.fork()
    if main_pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    status = 0
    while True:
        try:
            pid, code = os.waitpid(-1, 0)
        except ChildProcessError:
            return status
        if pid == main_pid:
            status = os.waitstatus_to_exitcode(code)
            main_pid = -1


if __name__ == "__main__":
    sys.exit(main())
