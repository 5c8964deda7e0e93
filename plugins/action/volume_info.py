# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.volume_info: see plugins/modules/volume_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.block.action import BlockAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volumes import VolumeInfo


class ActionModule(BlockAction):
    MODULE = "volume_info"
    RESOURCE = VolumeInfo
