# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.volume_backup_info: see plugins/modules/volume_backup_info.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.action import BackupAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.resources import VolumeBackupInfo


class ActionModule(BackupAction):
    MODULE = "volume_backup_info"
    RESOURCE = VolumeBackupInfo
