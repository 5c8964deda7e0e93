# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""masked_diff: a unified diff of two texts with secrets masked (plugin_utils/masked_diff.py)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.plugin_utils.masked_diff import masked_diff as _masked_diff


def masked_diff(before, after, secrets=None, name="file"):
    for field, value in (("the input (before)", before), ("after", after)):
        if value is not None and not isinstance(value, str):
            raise AnsibleFilterError(f"masked_diff: {field} must be the file's text (a string), got {type(value).__name__}")
    if secrets is not None and (isinstance(secrets, (str, bytes)) or not hasattr(secrets, "__iter__")):
        raise AnsibleFilterError("masked_diff: secrets must be a list of strings, e.g. [prefix, suffix]")
    return _masked_diff(before or "", after or "", secrets or (), name=str(name))


class FilterModule:
    def filters(self):
        return {"masked_diff": masked_diff}
