# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.server_console``: the guest's console log, read on its host."""

from __future__ import annotations

from typing import Optional

from .hosts import libvirt_host
from .lookups import require_server, service_row


def console_log(catalog, server: str, length: Optional[int] = None) -> str:
    with catalog.read() as tx:
        row = require_server(tx, server)
        service = service_row(tx, row["host"]) if row.get("host") else None
    if service is None:
        return ""
    return libvirt_host(service).console_log(f"{row['id']}.console.log", length)
