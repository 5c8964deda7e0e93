# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One cache of libvirt connections for the whole controller process.

Compute (domains, networks, pools) and block (secrets, disk hot-plug) talk to the same
libvirtd of a host through the same connection, as nova-compute holds one connection per
host. A connection that died (libvirtd restarted, SSH dropped) is replaced on next use.
"""

from __future__ import annotations

import time
from typing import Optional

from .errors import MinistackError

try:
    import libvirt

    HAS_LIBVIRT = True
    # libvirt prints every error to stderr by default; ministack raises them as exceptions.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
except ImportError:  # pragma: no cover - reported by connect()
    libvirt = None
    HAS_LIBVIRT = False

_connections: dict = {}


class ConnectError(MinistackError):
    """libvirt could not be reached; the message names the URI."""


def error_text(exc) -> str:
    if libvirt is not None and isinstance(exc, libvirt.libvirtError):
        return exc.get_error_message() or str(exc)
    return str(exc)


def connect(uri: str):
    """A cached, live connection to the libvirtd at ``uri``."""
    if not HAS_LIBVIRT:
        raise ConnectError("The libvirt Python binding is missing on the controller: "
                           "pip install libvirt-python (see requirements.txt).")
    conn = _connections.get(uri)
    if conn is not None:
        try:
            if conn.isAlive():
                return conn
        except libvirt.libvirtError:
            pass
        _connections.pop(uri, None)
    attempt = 0
    while True:
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as exc:
            text = error_text(exc)
            attempt += 1
            if attempt < CONNECT_ATTEMPTS and transient(text):
                time.sleep(attempt)
                continue
            raise ConnectError(f"Cannot connect to the hypervisor at {uri}: {text}") from exc
        _connections[uri] = conn
        return conn


CONNECT_ATTEMPTS = 3


def transient(text: str) -> bool:
    """An SSH transport failure worth one more try: a busy host's sshd refused the session or the
    channel ("failed to open ssh channel: Unexpected error", seen over qemu+libssh2 at load 40).
    Never a host key problem: an unknown or changed key is refused at once."""
    lowered = text.lower()
    return "ssh transport error" in lowered and "host key" not in lowered


def connection_lost(uri: str, exc: Optional[BaseException] = None) -> bool:
    """Whether the connection to the libvirtd at ``uri`` broke under a call (libvirtd restarted,
    SSH dropped): the cached connection is no longer alive, or ``exc`` (or what caused it) is a
    failure of libvirt's RPC layer. Ask before anything reconnects (the next ``connect``)."""
    if not HAS_LIBVIRT:
        return False
    conn = _connections.get(uri)
    if conn is not None:
        try:
            if not conn.isAlive():
                return True
        except libvirt.libvirtError:
            return True
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, libvirt.libvirtError) and exc.get_error_domain() == libvirt.VIR_FROM_RPC:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disconnect_all() -> None:
    for uri in list(_connections):
        conn = _connections.pop(uri)
        try:
            conn.close()
        except Exception:
            pass
