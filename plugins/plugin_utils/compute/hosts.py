# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver of a compute host, from its compute service row (the catalog's record).

Servers, networks and images all reach a host through here, so no compute module needs
another's (this removed the networks <-> servers import circle)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .drivers import Hypervisor


def hypervisor_for(service: dict) -> Hypervisor:
    """The one place a compute module reaches a host: the driver for its hypervisor_type."""
    # imported here: the libvirt drivers use networks.py, which reaches hosts through this file
    from .drivers import driver_for

    return driver_for(service)


libvirt_host = hypervisor_for  # the name networks.py and older callers use
