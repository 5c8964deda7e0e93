# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ministack.cloud.object_account_info``: the Swift account's totals and metadata."""

from __future__ import annotations

from .client import metadata_of
from .resource import Resource, account_of


class AccountInfo(Resource):
    read_only = True

    def run(self) -> dict:
        headers = self.swift.head() or {}
        account = {
            "account": account_of(self.swift),
            "bytes": int(headers.get("x-account-bytes-used", 0)),
            "containers": int(headers.get("x-account-container-count", 0)),
            "objects": int(headers.get("x-account-object-count", 0)),
            "properties": metadata_of(headers, "account"),
        }
        return {"changed": False, "account": account}
