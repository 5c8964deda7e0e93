# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute: the libvirt driver, the image cache, the config drive and the server lifecycle.

Plain Python, importable without Ansible. The controller drives each KVM host's libvirtd
through libvirt's remote API (``qemu:///system`` locally, ``qemu+ssh://`` or ``qemu+tls://``
remotely), as nova-compute's libvirt driver does locally.
"""

from __future__ import annotations

from ..catalog.errors import CatalogError


class ComputeError(CatalogError):
    """A compute operation failed; the message is meant for the user as is."""


class BuildError(ComputeError):
    """Building a guest failed on one host; the caller may retry on an alternate host."""
