# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the object-store modules (documented in the object_store doc fragment)."""

from __future__ import annotations

CONNECTION_SPEC = dict(
    cloud=dict(type="str"),
    auth=dict(type="dict", no_log=True),
    auth_type=dict(type="str", default="v1password"),
    region_name=dict(type="str"),
    validate_certs=dict(type="bool", default=True, aliases=["verify"]),
    ca_cert=dict(type="path", aliases=["cacert"]),
    timeout=dict(type="int", default=180),
)
