# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.image: see plugins/modules/image.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.action import ComputeAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.compute.images import Image


class ActionModule(ComputeAction):
    MODULE = "image"
    RESOURCE = Image
