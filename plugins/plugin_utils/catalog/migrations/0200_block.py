# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block's additions to the catalog.

* volume_services: the backend kind (lvm | file), how the controller reaches the host
  (``connection``: local, or ssh address/user/port/sudo), the backend and target settings
  (``backend_config``), and the capacity Cinder's scheduler weighs (total / free /
  provisioned GiB, thin or not) as last measured.
* volumes: ``provider_auth`` (0001) holds "CHAP <user> <encrypted secret>" as Cinder does,
  with the secret encrypted under the operator's key.
"""

from __future__ import annotations

try:  # ansible-test's import sanity loads plugin_utils without SQLAlchemy; Catalog() reports it missing
    from sqlalchemy import JSON, Boolean, Column, Float, String
except ImportError:
    pass


def upgrade(op):
    op.add_column("volume_services", Column("backend", String(16)))
    op.add_column("volume_services", Column("connection", JSON))
    op.add_column("volume_services", Column("backend_config", JSON))
    op.add_column("volume_services", Column("total_capacity_gb", Float))
    op.add_column("volume_services", Column("free_capacity_gb", Float))
    op.add_column("volume_services", Column("provisioned_capacity_gb", Float))
    op.add_column("volume_services", Column("thin_provisioning", Boolean))
