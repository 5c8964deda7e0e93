# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block's use of the one host runner (``plugin_utils/hostrunner.py``): the same runners,
built the same way from the inventory, raising the block library's ``CommandFailed``.

The controller drives block hosts the way Cinder's SAN drivers do: one command at a time
(``lvcreate``, ``tgt-admin``...), always as argv lists. Secrets (a CHAP password in a tgt
config file) travel on stdin and are masked in error messages when given in ``secrets``.
"""

from __future__ import annotations

# Tests patch runner.subprocess.run.
import subprocess  # noqa: F401  # pylint: disable=unused-import
from dataclasses import dataclass

from .. import hostrunner
from .errors import CommandFailed, CommandTimedOut

Result = hostrunner.Result
connection_spec = hostrunner.connection_spec
ConnectionSpecError = hostrunner.ConnectionSpecError


def _block(base):
    """``base`` (a host runner class) raising the block library's errors."""
    return dataclass(type(base.__name__, (base,), {
        "__module__": __name__, "__qualname__": base.__name__, "__doc__": base.__doc__,
        "__annotations__": {"failure": type, "timed_out": type},
        "failure": CommandFailed, "timed_out": CommandTimedOut,
    }))


Runner = _block(hostrunner.Runner)
LocalRunner = _block(hostrunner.LocalRunner)
SSHRunner = _block(hostrunner.SSHRunner)
PodmanRunner = _block(hostrunner.PodmanRunner)


def runner_for(connection, **kwargs):
    """The runner for a block host, from its registered connection (or inventory variables)."""
    return hostrunner.runner_for(connection, failure=CommandFailed, timed_out=CommandTimedOut, **kwargs)
