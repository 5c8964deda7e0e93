# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypervisor drivers: the seam between the server lifecycle and a compute host.

``driver_for(compute_service)`` reads the host's ``hypervisor_type`` (as the kvm_host and
lxc_host roles registered it) and returns the driver that speaks to it. Every driver offers
the operations of :class:`Hypervisor`; one it cannot do raises :class:`NotSupported` with
Nova's wording. Adding a hypervisor: a module here with a ``Hypervisor`` subclass, registered
with :func:`register` under its ``hypervisor_type`` (docs/architecture.md, "Adding a hypervisor").
"""

from __future__ import annotations

from .base import DRIVERS, Guest, Hypervisor, NotSupported, driver_for, register

# Importing the modules registers the drivers.
from . import libvirt_lxc, libvirt_qemu  # noqa: F401  isort: skip

__all__ = ["DRIVERS", "Guest", "Hypervisor", "NotSupported", "driver_for", "register"]
