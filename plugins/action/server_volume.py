# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.server_volume: see plugins/modules/server_volume.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.block.action import BlockAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.server_volumes import ServerVolume


class ActionModule(BlockAction):
    MODULE = "server_volume"
    RESOURCE = ServerVolume
