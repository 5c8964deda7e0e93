# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.volume_backup_record: see plugins/modules/volume_backup_record.py."""

from __future__ import annotations

from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.action import BackupAction
from ansible_collections.ministack.cloud.plugins.plugin_utils.backup.resources import VolumeBackupRecord


class ActionModule(BackupAction):
    MODULE = "volume_backup_record"
    RESOURCE = VolumeBackupRecord
