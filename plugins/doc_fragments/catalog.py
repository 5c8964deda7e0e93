# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Modules that run on the controller against the catalog (action plugins).
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: all
notes:
  - This module runs on the Ansible controller (it is an action plugin) and works on the ministack
    catalog. Which catalog is chosen by the variable C(ministack_catalog) (an SQLAlchemy URL such as
    C(sqlite:////srv/cloud/catalog.db) or C(postgresql://user:password@db/cloud)), else the environment
    variable C(MINISTACK_CATALOG), else the SQLite file C(.ministack/catalog.db) in the inventory's
    directory (C(~/.ministack/catalog.db) for the implicit localhost).
  - A task's changes are written in one transaction; two playbooks running at once never see each other's
    half-made changes. In check mode the same code runs and the transaction is rolled back.
"""
