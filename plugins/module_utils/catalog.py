# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every catalog module takes (documented in the catalog doc fragment).

Both fall back to today's variables when a task does not give them: ``catalog`` to
``ministack_catalog`` (then $MINISTACK_CATALOG, then the SQLite file beside the inventory),
``secret_key`` to ``ministack_secret_key``. Set them once per play with
``module_defaults: {group/ministack.cloud.catalog: {catalog: ..., secret_key: ...}}``.
"""

from __future__ import annotations

CATALOG_SPEC = dict(
    catalog=dict(type="str"),
    secret_key=dict(type="str", no_log=True),
)
