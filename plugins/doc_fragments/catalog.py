# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


def attributes(check_mode: str = "full", diff_mode: str = "full") -> str:
    """The attributes every controller-side module has (those of ansible.builtin.action_common_attributes
    and its flow), with this module's check and diff mode support (``full``, or ``none``; a
    ``details`` line may follow on the next line, indented by four)."""
    return f"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: {check_mode}
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: {diff_mode}
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on
      the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  bypass_host_loop:
    description: Forces a 'global' task that does not execute per host.
    support: none
"""


READS = "full\n    details: This module only reads the catalog."

_OPTIONS = r"""
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
"""

_REST = r"""
requirements:
  - SQLAlchemy >= 2.0
  - psycopg >= 3.1 (only for a PostgreSQL catalog)
notes:
  - This module runs on the Ansible controller (it is an action plugin) and works on the ministack
    catalog chosen by O(catalog).
  - A task's changes are written in one transaction; two playbooks running at once never see each other's
    half-made changes. In check mode the same code runs and the transaction is rolled back.
"""


class ModuleDocFragment:
    # Modules that run on the controller against the catalog (action plugins).
    DOCUMENTATION = _OPTIONS + attributes() + _REST

    # The _info modules and others that only read the catalog.
    INFO = _OPTIONS + attributes(READS, "none") + _REST

    # Modules that work on one project's resources.
    PROJECT = r"""
options:
  project:
    description: Project (name or id). Omitted, the default project.
    type: str
"""
