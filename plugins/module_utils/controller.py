# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module side of ministack's modules: each runs on the controller as an action plugin
(plugins/action/<name>.py); its module file holds the documentation and the argument spec,
and refuses to run on a host."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule


def controller_only(name, argument_spec, **kwargs):
    """What ``main()`` of a ministack module does: check the arguments, then fail with the reason."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    module.fail_json(msg=f"ministack.cloud.{name} runs on the controller as an action plugin; it cannot run as a module.")
