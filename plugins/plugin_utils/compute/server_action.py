# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.server_action``: start, stop, pause, suspend, reboot with Nova's state changes."""

from __future__ import annotations

from ..catalog import Conflict, InvalidInput, touch_service
from . import driver as drv
from .hosts import libvirt_host
from .lookups import find_server_row, require_server, service_row
from .server_record import STATUS_OF, server_record, set_server

ACTIONS = {
    # action: (allowed vm_states, target vm_state)
    "start": (("stopped",), "active"),
    "stop": (("active", "paused", "suspended"), "stopped"),
    "pause": (("active",), "paused"),
    "unpause": (("paused",), "active"),
    "suspend": (("active",), "suspended"),
    "resume": (("suspended",), "active"),
    "reboot_soft": (("active",), "active"),
    "reboot_hard": (("active", "stopped", "paused", "suspended"), "active"),
}
POWER_OF = {"active": drv.RUNNING, "stopped": drv.SHUTDOWN, "paused": drv.PAUSED, "suspended": drv.SHUTDOWN}


def server_action(catalog, server: str, action: str, check_mode: bool = False, timeout: float = 180) -> dict:
    """start/stop/pause/unpause/suspend/resume/reboot_soft/reboot_hard with Nova's state changes."""
    if action not in ACTIONS:
        raise InvalidInput("action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
    allowed, target = ACTIONS[action]
    with catalog.read() as tx:
        row = require_server(tx, server)
        before = server_record(tx, row)
        service = service_row(tx, row["host"]) if row.get("host") else None
    is_reboot = action.startswith("reboot")
    if row["vm_state"] == target and not is_reboot:
        return {"changed": False, "server": before}
    if row["vm_state"] not in allowed or service is None:
        raise Conflict(f"Cannot '{action}' instance {row['id']} while it is in vm_state {row['vm_state']}")
    if check_mode:
        return {"changed": True, "server": before}
    host = libvirt_host(service)
    name = row["id"]  # the domain's UUID is the server's id
    task = {"stop": "powering-off", "start": "powering-on", "pause": "pausing", "unpause": "unpausing",
            "suspend": "suspending", "resume": "resuming", "reboot_soft": "rebooting",
            "reboot_hard": "rebooting_hard"}[action]
    with catalog.begin() as tx:
        set_server(tx, row["id"], task_state=task)
    try:
        if action == "start":
            host.start(name, timeout)
        elif action == "stop":
            host.stop(name, timeout)
        elif action == "pause":
            host.pause(name)
        elif action == "unpause":
            host.unpause(name)
        elif action == "suspend":
            host.suspend(name)
        elif action == "resume":
            host.start(name, timeout)
        else:
            host.reboot(name, hard=action == "reboot_hard", timeout=timeout)
    except Exception:
        with catalog.begin() as tx:
            set_server(tx, row["id"], task_state=None, power_state=host.power_state(name))
        raise
    with catalog.begin() as tx:
        set_server(tx, row["id"], task_state=None, vm_state=target, status=STATUS_OF[target],
                   power_state=host.power_state(name))
        touch_service(tx, service["host"])
        after = server_record(tx, find_server_row(tx, row["id"]))
    return {"changed": True, "server": after}
