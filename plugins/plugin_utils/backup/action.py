# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin base of the backup modules: the block base (catalog, operator's key), but
the resource runs its own short transactions (``execute(catalog)``): a backup's copy must
never run inside a catalog transaction."""

from __future__ import annotations

from ..block.action import BlockAction


class BackupAction(BlockAction):
    @staticmethod
    def _execute(catalog, resource, check_mode: bool) -> dict:
        return resource.execute(catalog)
