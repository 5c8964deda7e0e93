"""virtconn.connection_lost: what the server build asks before it cleans a failed build's host,
to tell a lost connection to libvirtd (restarted, SSH dropped) from libvirt refusing the work
(tests/integration/faults/test_daemon_restarts.py restarts the real libvirtd)."""

from __future__ import annotations

import pytest

libvirt = pytest.importorskip("libvirt")

from ansible_collections.ministack.cloud.plugins.plugin_utils import virtconn  # noqa: E402
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute import ComputeError, driver  # noqa: E402


def _error(domain: int, code: int, message: str) -> libvirt.libvirtError:
    exc = libvirt.libvirtError(message)
    exc.err = (code, domain, message, 2, None, None, None, -1, -1)
    return exc


def test_an_rpc_failure_under_a_wrapped_error_is_a_lost_connection():
    eof = _error(libvirt.VIR_FROM_RPC, libvirt.VIR_ERR_SYSTEM_ERROR, "End of file while reading data")
    try:
        try:
            raise eof
        except libvirt.libvirtError as exc:
            raise ComputeError("Looking up storage pool p failed") from exc
    except ComputeError as wrapped:
        assert virtconn.connection_lost("test:///nowhere", wrapped)
    refused = _error(libvirt.VIR_FROM_STORAGE, libvirt.VIR_ERR_OPERATION_FAILED, "no space left")
    assert not virtconn.connection_lost("test:///nowhere", refused)
    assert not virtconn.connection_lost("test:///nowhere", RuntimeError("a bug"))


def test_a_cached_connection_that_died_is_a_lost_connection():
    uri = "test:///default"
    virtconn._connections.pop(uri, None)
    host = driver.LibvirtHost(uri)
    host.conn.getLibVersion()
    assert not host.connection_lost()
    host.conn.close()  # as the socket to a restarted libvirtd: no longer alive
    try:
        assert host.connection_lost()
        host.conn.getLibVersion()  # the next use connects again
        assert not host.connection_lost()
    finally:
        virtconn._connections.pop(uri, None)
