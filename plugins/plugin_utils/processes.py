# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a process still there? Linux /proc facts, shared by the catalog's task owners, the
backups' owners and the ring's stale temporary files. Standard library only.

A process killed with SIGKILL stays a zombie until its parent reaps it, and when its parent
died too, until PID 1 does; a container's PID 1 often never does. So "its /proc entry exists"
does not mean "it runs": a zombie counts as gone here."""

import os


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            # the command name (field 2) may hold spaces and parentheses: split after its last ")"
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] in ("Z", "X"):  # killed, not yet reaped: gone all the same
        return None
    return fields


def start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or
    None when it does not exist or is a zombie. Equal ticks for one pid mean the same process."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def started_at(pid: int) -> float | None:
    """When a process started, in seconds since the epoch (to 0.01 s), or None when it does not
    exist or is a zombie. Linux only; elsewhere None for every pid."""
    ticks = start_ticks(pid)
    boot = _boot_time()
    if ticks is None or boot is None:
        return None
    return round(boot + int(ticks) / os.sysconf("SC_CLK_TCK"), 2)


def running(pid: int, not_after: float | None = None) -> bool:
    """True when ``pid`` runs (not a zombie); with ``not_after`` (epoch seconds), only when it
    started by then too, so a pid reused by a later process does not count."""
    started = started_at(pid)
    if started is None:
        return False
    return not_after is None or started <= not_after + 1.0
