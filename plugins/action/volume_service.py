# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.volume_service: see plugins/modules/volume_service.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.block.action import BlockAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.block.volume_services import VolumeService


class ActionModule(BlockAction):
    MODULE = "volume_service"
    RESOURCE = VolumeService
