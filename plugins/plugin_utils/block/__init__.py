# Copyright: ministack developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block storage: the Cinder side of ministack.

Backends (LVM, file) create and resize the bytes on a block host, target helpers (tgt, LIO)
export them over iSCSI with per-volume CHAP, and ``attach`` plugs the export into a libvirt
domain as a network disk. Everything runs host commands through :mod:`.runner` with argv lists.
"""
