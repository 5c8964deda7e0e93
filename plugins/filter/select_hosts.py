# Copyright: ministack.cloud contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ministack.cloud.select_hosts: Nova's filter scheduler as a Jinja2 filter (docs in select_hosts.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.ministack.cloud.plugins.plugin_utils.scheduler import SchedulerError, select_hosts


def _plain(value):
    """Ansible's tagged containers to plain dicts/lists, so nothing Ansible-specific leaks into the library."""
    if type(value).__name__ == "_OmitType":
        # `omit` (ansible-core 2.19+ passes a sentinel object; older ones a placeholder string).
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


def select_hosts_filter(hosts, flavor, image=None, availability_zone=None, scheduler_hints=None, server_group=None,
                        aggregates=None, project_id=None, num_instances=1, config=None):
    try:
        return select_hosts(
            _plain(hosts), _plain(flavor), image=_plain(image), availability_zone=_plain(availability_zone),
            scheduler_hints=_plain(scheduler_hints), server_group=_plain(server_group),
            aggregates=_plain(aggregates), project_id=_plain(project_id), num_instances=_plain(num_instances),
            config=_plain(config))
    except SchedulerError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"select_hosts": select_hosts_filter}
