# Copyright: ministack developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Resource subclass per module (see ../resource.py and docs/catalog.md)."""
