# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.image_info: see plugins/modules/image_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.images import ImageInfo


class ActionModule(ComputeAction):
    MODULE = "image_info"
    RESOURCE = ImageInfo
