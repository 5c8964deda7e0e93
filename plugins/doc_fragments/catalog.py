# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Modules that run on the controller against the catalog (action plugins); with
    # ministack.cloud.controller (or .info) for the attributes.
    DOCUMENTATION = r"""
options:
  catalog:
    description:
      - The catalog to work on, as an SQLAlchemy URL (C(sqlite:////srv/cloud/catalog.db),
        C(postgresql://user:password@db/cloud)) or the path of an SQLite file.
      - When not given, the variable C(ministack_catalog), else the environment variable
        C(MINISTACK_CATALOG), else the SQLite file C(.ministack/catalog.db) in the inventory's directory
        (C(~/.ministack/catalog.db) for the implicit localhost).
      - Set it once for a play with C(module_defaults) and the action group
        C(group/ministack.cloud.catalog).
    type: str
  secret_key:
    description:
      - The operator's key that encrypts the secrets kept in the catalog (the CHAP secrets of volume
        attachments); at least 16 characters. Keep it in Ansible Vault.
      - When not given, the variable C(ministack_secret_key).
      - Only the modules that store or read such secrets use it (M(ministack.cloud.server_volume)); every
        catalog module accepts it, so that one C(module_defaults) group can set it for all of them.
    type: str
requirements:
  - SQLAlchemy >= 2.0
  - psycopg >= 3.1 (only for a PostgreSQL catalog)
notes:
  - This module runs on the Ansible controller (it is an action plugin) and works on the ministack
    catalog chosen by O(catalog).
  - A task's changes are written in one transaction; two playbooks running at once never see each other's
    half-made changes. In check mode the same code runs and the transaction is rolled back.
"""

    # Modules that work on one project's resources.
    PROJECT = r"""
options:
  project:
    description: Project (name or id). Omitted, the default project.
    type: str
"""
