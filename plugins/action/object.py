# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.object: see plugins/modules/object.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.objectstore import Object
from ansible_collections.ministack.cloud.plugins.plugin_utils.objectstore.action import ObjectStoreAction


class ActionModule(ObjectStoreAction):
    MODULE = "object"
    RESOURCE = Object
