# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.volume: see plugins/modules/volume.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.block.action import BlockAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import Volume


class ActionModule(BlockAction):
    MODULE = "volume"
    RESOURCE = Volume
