# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova-style filter scheduler as a pure library (no Ansible imports).

``select_hosts`` is the one entry point; the filter plugin and the server
module both call it.  Filters and weighers plug in by name through
``register_filter`` / ``register_weigher``.
"""

from __future__ import annotations

from .errors import NoValidHost, SchedulerError, SchedulerInputError
from .filters import FILTERS, BaseFilter, register_filter
from .host_state import DEFAULT_CONFIG, HostState
from .scheduler import select_hosts
from .weighers import WEIGHERS, BaseWeigher, normalize, register_weigher

__all__ = [
    "DEFAULT_CONFIG",
    "FILTERS",
    "WEIGHERS",
    "BaseFilter",
    "BaseWeigher",
    "HostState",
    "NoValidHost",
    "SchedulerError",
    "SchedulerInputError",
    "normalize",
    "register_filter",
    "register_weigher",
    "select_hosts",
]
