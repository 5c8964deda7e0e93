# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The listings of compute hosts that take nova-compute's heartbeat first
    # (compute_service_info, hypervisor_info: plugin_utils/compute/heartbeat.py).
    DOCUMENTATION = r"""
options:
  probe:
    description:
      - Reach the enabled hosts not reached in the last 20 seconds before listing, and record the contact of
        those that answer (nova-compute's heartbeat). In check mode no host is reached and the listing shows
        what is recorded.
      - V(false) lists what is recorded, without reaching any host.
    type: bool
    default: true
  service_down_time:
    description:
      - Seconds since the controller last reached a host after which it is C(down).
      - Defaults to the environment variable C(MINISTACK_SERVICE_DOWN_TIME), else 60 (Nova's default).
    type: int
"""
